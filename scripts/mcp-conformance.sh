#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against the
# built lago-customers service, and its tools-call-error scenario against a service generated
# from specs/conformance.yaml (the Lago spec has no tool named test_error_handling).
# Installs Node 22 and the suite from the npm registry into target/conformance on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
suite_version=0.1.16
target=${CARGO_TARGET_DIR:-$root/target}
dir=$target/conformance
mkdir -p "$dir"

if [ ! -x "$dir/node_modules/node/bin/node" ] || [ ! -f "$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js" ]; then
  echo "== installing node@22 and @modelcontextprotocol/conformance@$suite_version"
  (cd "$dir" && [ -f package.json ] || echo '{"name":"conformance-runner","private":true}' > "$dir/package.json")
  npm install --prefix "$dir" --no-audit --no-fund --silent "node@22" "@modelcontextprotocol/conformance@$suite_version"
fi
export PATH="$dir/node_modules/node/bin:$PATH"
conformance() { node "$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js" "$@"; }
echo "node $(node --version)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== building lago-customers"
cargo build --quiet --workspace  # same features as the test run: no rebuild
echo "== building the service of specs/conformance.yaml"
fixture=$target/e2e/conformance-crate
rm -rf "$fixture"
"$target/debug/naftiko-codegen" new specs/conformance.yaml --out "$fixture" --name conformance-fixture \
  --codegen-path "$root/codegen" >/dev/null
cp Cargo.lock "$fixture/"
(cd "$fixture" && CARGO_TARGET_DIR=$target/e2e CARGO_PROFILE_DEV_DEBUG=false cargo build --quiet)

failed=0
run() {
  local url=$1 scenario=$2
  if conformance server --url "$url" --scenario "$scenario" > "$dir/$scenario.log" 2>&1; then
    echo "PASS $scenario ($url)"
  else
    echo "FAIL $scenario ($url)"; tail -40 "$dir/$scenario.log"; failed=1
  fi
}

rest=$(free_port); mcp=$(free_port)
RUST_LOG=warn "$target/debug/lago-customers" serve --sandbox --rest-addr "127.0.0.1:$rest" --mcp-addr "127.0.0.1:$mcp" &
pids+=($!)
wait_port "$mcp"
for scenario in server-initialize ping tools-list dns-rebinding-protection; do
  run "http://127.0.0.1:$mcp/mcp" "$scenario"
done

fixture_port=$(free_port); closed=$(free_port)
RUST_LOG=error "$target/e2e/debug/conformance-fixture" serve --mcp-addr "127.0.0.1:$fixture_port" \
  --base-url "http://127.0.0.1:$closed" --connect-timeout 2 &
pids+=($!)
wait_port "$fixture_port"
for scenario in server-initialize tools-list tools-call-error dns-rebinding-protection; do
  run "http://127.0.0.1:$fixture_port/mcp" "$scenario"
done

if [ "$failed" -ne 0 ]; then
  echo "MCP conformance: some scenarios failed"
  exit 1
fi
echo "MCP conformance: all scenarios passed"
