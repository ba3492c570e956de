#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this). Run as root so that the tests that need network
# namespaces run too; as another user they are skipped with a loud SKIPPED line.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh

# iproute2: network namespaces; curl: a real HTTP client inside them.
ensure_packages iproute2 curl ca-certificates gcc libc6-dev
ensure_cargo

if [ "$(id -u)" -ne 0 ]; then
  printf '\n*** SKIPPED: not root: the tests that need network namespaces will skip (CI runs them as root) ***\n\n'
fi

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
say "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast
else
  cargo test --locked --no-fail-fast
fi
