#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: a figure that does not move
# when other processes share the cores (CPU time on this kind of VM swings ±20% between
# runs, more than most changes are worth). Each server runs under callgrind in turn, takes
# a warm-up load, has its counters zeroed, takes the measured load, and dumps its counts.
# Only user-space instructions are counted: the kernel's share (sockets, epoll) is not, and
# an instruction is not a fixed time (a tight scan retires several per cycle, a cache miss
# none), so set it beside bench/rest_gap.sh or bench/ab.sh, not in place of them.
#
# usage: bench/instructions.sh [LAGO_CUSTOMERS_BIN] [seconds of measured load, default 10]
#   (default binary: $CARGO_TARGET_DIR/release/lago-customers, built when absent)
#   ONLY="rest rest-traced reqwest hyper mcp mcp-traced": the configurations to measure.
#   DIFF="A B" (default "rest reqwest"): also list the functions whose own instructions per
#   request differ most between configurations A and B (TOP=25 of them).
# Configurations:
#   rest         lago-customers, GET /v1/customers (Lago's list, 2.7 KB, passed through)
#   rest-traced  the same with --control-addr: metrics, and a trace of every request
#   reqwest      bench/minproxy's /r: bare axum + reqwest, the same stub, nothing of ours
#   hyper        bench/minproxy's /h: bare axum + hyper-util's client
#   mcp          lago-customers, MCP tools/call lago-retrieve-customer (stateless)
#   mcp-traced   the same with --control-addr
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bench/lib.sh
use_target
bin=$(realpath "${1:-$target/release/lago-customers}")
secs=${2:-10}
only=${ONLY:-rest rest-traced reqwest hyper mcp mcp-traced}
diff=${DIFF:-rest reqwest}
out=$target/bench-instructions
mkdir -p "$out"
use_examples
for tool in wrk valgrind python3; do
  command -v $tool >/dev/null || { echo "error: $tool is needed (apt-get install $tool)" >&2; exit 2; }
done
[ -x "$bin" ] || cargo build -q --release -p lago-customers
build_minproxy

trap stop_all EXIT

STUB=4140 REST=4240 MCP=4340 MIN=4440
"$target/release/bench-lago-stub" "127.0.0.1:$STUB" "$examples" & pids+=($!)
wait_port $STUB
base=http://127.0.0.1:$STUB/api/v1
id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['customer']['external_id'])" "$examples/customer.response.json")
mcp_args=(-s bench/mcp_call.lua -- lago-retrieve-customer "{\"external_id\":\"$id\"}" lago_id "")

# measure NAME URL [wrk args] :: COMMAND...: runs COMMAND under callgrind and loads URL.
failed=0
measure() {
  local name=$1 url=$2; shift 2
  local wrk_args=()
  while [ "$1" != "::" ]; do wrk_args+=("$1"); shift; done
  shift
  rm -f "$out/$name".cg*
  valgrind --tool=callgrind --callgrind-out-file="$out/$name.cg" "$@" > "$out/$name.log" 2>&1 &
  local p=$!; pids+=($p)
  local port=${url#http://127.0.0.1:}; port=${port%%/*}
  wait_port "$port"
  # Warm-up: pools, caches and lazily built state are in place before counting starts.
  wrk -t1 -c4 -d3s --timeout 30s "$url" "${wrk_args[@]}" > "$out/$name.warm" || true
  callgrind_control -z "$p" > /dev/null 2>&1
  wrk -t1 -c4 -d"${secs}s" --timeout 30s "$url" "${wrk_args[@]}" > "$out/$name.wrk"
  callgrind_control -d "$p" > /dev/null 2>&1
  check_run "$name" "$out/$name.wrk" || failed=$((failed + 1))
  kill "$p"; wait "$p" 2>/dev/null || true
  local n ir
  n=$(awk '/requests in/ {print $1}' "$out/$name.wrk")
  # The counts since the zeroing are in the dump numbered 1.
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$out/$name.cg.1")
  echo "$name $n $ir" >> "$out/counts.txt"
  echo "$name: $n requests, $((ir / n)) instructions each" >&2
}

# The environment of every server (valgrind runs the command itself, not through `env`).
export LAGO_API_KEY=bench RUST_LOG=error PER_CORE
PER_CORE=$(nproc)
ours() { # EXTRA ARGS...
  echo "$bin" serve --base-url "$base" \
    --rest-addr "127.0.0.1:$REST" --mcp-addr "127.0.0.1:$MCP" "$@"
}
: > "$out/counts.txt"
for c in $only; do
  case $c in
    rest) measure rest "http://127.0.0.1:$REST/v1/customers" :: $(ours) ;;
    rest-traced) measure rest-traced "http://127.0.0.1:$REST/v1/customers" :: $(ours --control-addr 127.0.0.1:0) ;;
    mcp) measure mcp "http://127.0.0.1:$MCP/mcp" "${mcp_args[@]}" :: $(ours) ;;
    mcp-traced) measure mcp-traced "http://127.0.0.1:$MCP/mcp" "${mcp_args[@]}" :: $(ours --control-addr 127.0.0.1:0) ;;
    reqwest | hyper)
      path=/r; [ "$c" = hyper ] && path=/h
      measure "$c" "http://127.0.0.1:$MIN$path" :: \
        "$target/release/bench-minproxy" "127.0.0.1:$MIN" "$base/customers" ;;
    *) echo "error: unknown configuration $c" >&2; exit 2 ;;
  esac
done

echo "| Configuration | requests measured | instructions/request |"
echo "|---|---|---|"
awk '{printf "| %s | %s | %.0f |\n", $1, $2, $3 / $2}' "$out/counts.txt"

read -r a b <<< "$diff"
if grep -q "^$a " "$out/counts.txt" && grep -q "^$b " "$out/counts.txt"; then
  echo
  echo "Functions whose own instructions per request differ most, $a against $b:"
  python3 bench/callgrind_diff.py "$out/$a.cg.1" "$(awk -v k="$a" '$1 == k {print $2}' "$out/counts.txt")" \
    "$out/$b.cg.1" "$(awk -v k="$b" '$1 == k {print $2}' "$out/counts.txt")" "${TOP:-25}"
fi
[ "$failed" -eq 0 ] || { echo "FAILED: $failed runs had failed requests" >&2; exit 1; }
