#!/usr/bin/env bash
# Three replicas of the sandbox service behind nginx; one stopped mid-run (scripts/replicas.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "== installing nginx (Debian package)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq nginx >/dev/null; fi
fi
export PATH=$PATH:/usr/sbin
cargo build --quiet -p lago-customers
work=$CARGO_TARGET_DIR/replicas
rm -rf "$work"
python3 scripts/replicas.py "$CARGO_TARGET_DIR/debug/lago-customers" "$work"
