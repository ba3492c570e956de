#!/usr/bin/env bash
# The demo lab: builds labboot, creates a throw-away lab of two network namespaces joined by a veth pair
# (labboot's side has eth1 = 10.99.0.1/24, as in docs/labboot.example.toml; a client side has 10.99.0.2/24), runs
# `labboot serve` on the example config there, shows that a client on the lab network reaches it, stops it with
# SIGTERM and removes everything. No traffic leaves the namespaces. Run as root on a Debian machine.
#
# This build of labboot has the store, the config and the plain-HTTP service; DHCP, TFTP and the PXE boot of a VM
# join this demo as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh

if [ "$(id -u)" -ne 0 ]; then
  echo "the demo creates network namespaces: run it as root" >&2
  exit 1
fi
ensure_packages iproute2 curl ca-certificates gcc libc6-dev
ensure_cargo

say "building labboot (release)"
cargo build --release --locked --bin labboot
bin=$PWD/target/release/labboot

srv=labboot-demo-srv
cli=labboot-demo-cli
work=$(mktemp -d /tmp/labboot-demo.XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ip netns del "$srv" 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns del "$srv" 2>/dev/null || true
ip netns del "$cli" 2>/dev/null || true

say "creating the lab: namespace $srv (eth1 10.99.0.1/24) <-veth-> namespace $cli (eth0 10.99.0.2/24)"
ip netns add "$srv"
ip netns add "$cli"
ip link add eth1 netns "$srv" type veth peer name eth0 netns "$cli"
ip -n "$srv" addr add 10.99.0.1/24 dev eth1
ip -n "$cli" addr add 10.99.0.2/24 dev eth0
for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
ip -n "$srv" link set eth1 up
ip -n "$cli" link set eth0 up

config=$work/labboot.toml
sed -e "s#\"/var/lib/labboot/tftp\"#\"$work/data/tftp\"#" -e "s#\"/var/lib/labboot\"#\"$work/data\"#" \
  docs/labboot.example.toml > "$config"

say "labboot check-config (the example config, data_dir moved to $work/data)"
ip netns exec "$srv" "$bin" check-config --config "$config" | sed 's/^/    /'

say "labboot serve, inside $srv"
start=$(date +%s.%N)
ip netns exec "$srv" "$bin" serve --config "$config" > >(sed -u 's/^/    [labboot] /') 2>&1 &
pid=$!

up=""
for _ in $(seq 1 300); do
  if body=$(ip netns exec "$cli" curl -sf --max-time 1 http://10.99.0.1:8080/healthz); then up=yes; break; fi
  sleep 0.1
done
ready=$(date +%s.%N)
if [ -z "$up" ]; then
  echo "labboot did not answer on http://10.99.0.1:8080 within 30 s" >&2
  exit 1
fi
sleep 0.2
say "a client in $cli asks http://10.99.0.1:8080/healthz"
echo "    $body"

say "stopping labboot with SIGTERM"
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
pid=""
[ "$code" -eq 0 ] || { echo "labboot exited with $code" >&2; exit 1; }

machines=$(printf '%s' "$body" | sed -n 's/.*"machines":\([0-9]*\).*/\1/p')
took=$(awk -v a="$start" -v b="$ready" 'BEGIN { printf "%.2f", b - a }')
printf '\nDEMO OK: labboot %s served the example config on eth1 (10.99.0.1/24) in a throw-away namespace, answered a client on the lab network %s s after start (%s machine(s) in its store), and stopped cleanly on SIGTERM.\n' \
  "$("$bin" --version | awk '{print $2}')" "$took" "$machines"
