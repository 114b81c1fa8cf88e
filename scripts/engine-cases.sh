#!/usr/bin/env bash
# Runs the reference engine's behaviour cases against services this repository generates.
#
#   scripts/engine-cases.sh CASES_DIR CORPUS_DIR [--filter SUBSTRING] [--json FILE]
#
# Prints `PASS id`, `FAIL id: why` or `SKIP id: rule` per case, a per-construct table and
# `N passed, N failed, N skipped`. Exits 0 when it ran (failures are counted, not fatal),
# non-zero when it could not run (missing folders, the runner failing to build).
# Builds in $CARGO_TARGET_DIR (default <repo>/target), dev profile, so the acceptance crate
# reuses the workspace's compiled dependencies.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

if [ $# -lt 2 ]; then
  echo "usage: $0 CASES_DIR CORPUS_DIR [--filter SUBSTRING] [--json FILE]" >&2
  exit 2
fi
for dir in "$1" "$2"; do
  if [ ! -d "$dir" ]; then
    echo "error: \`$dir\` is not a directory" >&2
    exit 2
  fi
done

target=${CARGO_TARGET_DIR:-$repo/target}
export CARGO_TARGET_DIR=$target
cargo build --quiet --manifest-path "$repo/Cargo.toml" -p naftiko-engine-cases >&2 \
  || { echo "error: the engine-case runner does not build" >&2; exit 2; }
exec "$target/debug/naftiko-engine-cases" "$@" --repo "$repo" --target-dir "$target"
