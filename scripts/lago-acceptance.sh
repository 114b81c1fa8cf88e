#!/usr/bin/env bash
# Acceptance against Lago's OpenAPI document: installs Prism (@stoplight/prism-cli) from npm
# into target/prism on first use, then runs the conformance crate's Prism test, which starts
# Prism on the shared lago/openapi.yaml (NAFTIKO_SHARED, or ../shared) and the service in
# front of it.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
dir=$target/prism
mkdir -p "$dir"
if [ ! -x "$dir/node_modules/.bin/prism" ]; then
  echo "== installing @stoplight/prism-cli"
  [ -f "$dir/package.json" ] || echo '{"name":"prism-runner","private":true}' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --silent "@stoplight/prism-cli@5"
fi
# Prism runs on the Node 22 that the MCP conformance script installs, when present.
if [ -x "$target/conformance/node_modules/node/bin/node" ]; then
  export PATH="$target/conformance/node_modules/node/bin:$PATH"
fi
echo "prism $("$dir/node_modules/.bin/prism" --version)"
# --workspace keeps the features of the test run, so nothing is rebuilt.
PRISM="$dir/node_modules/.bin/prism" cargo test --workspace --test prism -- --ignored
