# Shared by tests/demo.sh and tests/run.sh: install what they need, find cargo.
# shellcheck shell=bash

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Installs Debian packages when we are root on a Debian-like system; otherwise checks they are there.
ensure_packages() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing packages: ${missing[*]} (run as root to install them)" >&2
  fi
}

# Makes sure a Rust toolchain new enough for edition 2024 / smoltcp 0.14 (1.91) is on PATH.
ensure_cargo() {
  [ -d "$HOME/.cargo/bin" ] && PATH="$HOME/.cargo/bin:$PATH"
  if ! command -v cargo >/dev/null; then
    ensure_packages cargo rustc
  fi
  local v
  v=$(rustc --version 2>/dev/null | awk '{print $2}')
  if [ -z "$v" ] || [ "$(printf '%s\n1.91.0\n' "$v" | sort -V | head -n1)" != "1.91.0" ]; then
    echo "labboot needs Rust >= 1.91 (found: ${v:-none}). Install it with rustup (https://rustup.rs) and retry." >&2
    exit 1
  fi
}
