#!/usr/bin/env bash
# What each MCP transport mode costs: tools/call CPU per call of lago-customers in stateless
# Streamable HTTP, with sessions (`--mcp-sessions`, SSE answers) and over stdio (`mcp-stdio`),
# against a bare rmcp 3.11 server doing the same calls in the same modes (bench/minmcp:
# one shared reqwest client, the upstream body parsed and returned as structured content,
# nothing else), so that each mode's extra cost splits into rmcp's own and ours. All against
# one local stub of Lago's full example bodies; runs interleaved (ours, bare, ours, bare...)
# so that a busy machine hurts both alike.
# usage: bench/mcp_modes.sh [LAGO_CUSTOMERS_BIN] [seconds per run, default 10]
#   LAGO_CUSTOMERS_BIN: a release build of lago-customers (default
#     $CARGO_TARGET_DIR/release/lago-customers; not built here).
#   REPS=3 runs per row (medians of calls/s and of CPU µs/call reported separately).
#   CONNS=64: wrk connections for HTTP, and requests kept in flight over stdio.
#   TOOLS="get": get = lago-retrieve-customer, list = lago-list-all-customers ("get list": both).
#   K1=1 (default): also stdio with one request in flight at a time; K1=0 leaves it out.
#   EXTRA=1 (default): also the bare server over stdio variants that price our stdio
#     plumbing: rmcp's stdio_pipes() instead of stdio(), and lago-customers' line filter
#     (two duplex pipes and two copy tasks, as serve::run_stdio) over each; and the bare
#     server's HTTP modes on tokio's multi-threaded runtime. EXTRA=0: none of these.
#   PORT=4910: first of the 9 consecutive local ports used (stub, servers).
# The bare server's HTTP rows run it thread-per-core (PER_CORE=nproc: one single-threaded
# runtime, listener and connection pool per core, one shared session table), the way
# lago-customers serves HTTP (codegen/runtime/src/workers.rs); over stdio both run on
# tokio's multi-threaded runtime.
#   CARGO_TARGET_DIR (default <repo>/target): where bench-lago-stub and bench/minmcp are
#     built; logs and per-run results go to $CARGO_TARGET_DIR/bench-mcp-modes.
#   NAFTIKO_SHARED (default ../shared): Lago's example bodies.
# CPU µs/call is the server process's user + system time (/proc/PID/stat) per call answered:
# for HTTP over the whole wrk run, for stdio over the measured window of
# bench-mcp-stdio-load (bench/minmcp/src/bin), which starts the server as its child, does
# the handshake, warms up 1 s, and never counts its own CPU.
# Any bad answer (non-200, JSON-RPC error, "isError": true, no customer in it, an id not in
# flight) fails the run (exit 1), after the table is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bench/lib.sh
use_target
ours=$(realpath "${1:-$target/release/lago-customers}")
secs=${2:-10}
conns=${CONNS:-64}
reps=${REPS:-3}
tools=${TOOLS:-get}
out=$target/bench-mcp-modes
mkdir -p "$out"
use_examples
[ -x "$ours" ] || { echo "error: no lago-customers binary at $ours (build it with --release or name one)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "error: wrk is needed (apt-get install wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "error: curl is needed" >&2; exit 2; }
echo "== building bench-lago-stub and bench/minmcp (release) in $target" >&2
build_minproxy --bin bench-lago-stub
[ -f bench/minmcp/Cargo.lock ] || cp Cargo.lock bench/minmcp/Cargo.lock
(cd bench/minmcp && cargo build -q --release)
bare=$target/release/bench-minmcp
driver=$target/release/bench-mcp-stdio-load

trap stop_all EXIT
hz=$(getconf CLK_TCK)
export CLK_TCK=$hz

port=${PORT:-4910}
STUB=$port
"$target/release/bench-lago-stub" "127.0.0.1:$STUB" "$examples" > "$out/stub.log" 2>&1 & pids+=($!)
wait_port $STUB
base=http://127.0.0.1:$STUB/api/v1
id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['customer']['external_id'])" "$examples/customer.response.json")

# The long-lived HTTP servers: KEY -> PID and MCP URL.
declare -A pid url
start_ours() { # KEY REST_PORT MCP_PORT [serve args]
  local key=$1 rest=$2 mcp=$3; shift 3
  env LAGO_API_KEY=bench RUST_LOG=error "$ours" serve --base-url "$base" \
    --rest-addr "127.0.0.1:$rest" --mcp-addr "127.0.0.1:$mcp" "$@" > "$out/$key.log" 2>&1 & pids+=($!)
  pid[$key]=$!; url[$key]=http://127.0.0.1:$mcp/mcp
  wait_port "$rest"; wait_port "$mcp"
}
start_bare() { # KEY MODE PORT [PER_CORE]
  env ${4:+PER_CORE=$4} "$bare" "$2" "$base" "127.0.0.1:$3" > "$out/$1.log" 2>&1 & pids+=($!)
  pid[$1]=$!; url[$1]=http://127.0.0.1:$3/mcp
  wait_port "$3"
}
start_ours ours-http $((port + 1)) $((port + 2))
start_ours ours-sessions $((port + 3)) $((port + 4)) --mcp-sessions
start_bare bare-http http $((port + 5)) "$(nproc)"
start_bare bare-sessions sessions $((port + 6)) "$(nproc)"
start_bare bare-mt-http http $((port + 7))
start_bare bare-mt-sessions sessions $((port + 8))
sleep 1

# A new session on URL (initialize, then notifications/initialized): prints its id.
open_session() {
  local headers=$out/session-headers.txt sid
  curl -sS -o /dev/null -D "$headers" -X POST "$1" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' \
    -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcp_modes","version":"1"}}}'
  sid=$(awk -F': *' 'tolower($1) == "mcp-session-id" {gsub(/\r/, "", $2); print $2}' "$headers")
  [ -n "$sid" ] || { echo "FAILED: no Mcp-Session-Id from $1" >&2; return 1; }
  curl -sS -o /dev/null -X POST "$1" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' \
    -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  echo "$sid"
}

tool_of() { [ "$1" = get ] && echo lago-retrieve-customer || echo lago-list-all-customers; }
args_of() { [ "$1" = get ] && echo "{\"external_id\":\"$id\"}" || echo '{}'; }

failed=0
# http_load KEY TOOL SESSION -> "calls_per_s cpu_us_per_call"
http_load() {
  local key=$1 tool=$2 session=$3 log=$out/wrk-$1-$2-$RANDOM.log before after rps
  before=$(ticks "${pid[$key]}")
  wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s --latency "${url[$key]}" -s bench/mcp_call.lua \
    -- "$(tool_of "$tool")" "$(args_of "$tool")" lago_id "$session" > "$log"
  after=$(ticks "${pid[$key]}")
  check_run "$key $tool" "$log" || failed=$((failed + 1))
  read -r rps _ < <(wrk_summary "$log")
  awk -v ticks=$((after - before)) -v hz="$hz" -v rps="$rps" '
    /requests in/ {n=$1}
    END { printf "%s %.1f\n", rps, (n > 0 ? ticks / hz * 1e6 / n : 0) }' "$log"
}
# stdio_load K TOOL CMD... -> "calls_per_s cpu_us_per_call"
stdio_load() {
  local k=$1 tool=$2 line; shift 2
  if line=$("$driver" "$k" "$secs" "$(tool_of "$tool")" "$(args_of "$tool")" lago_id -- "$@" 2>>"$out/stdio.log"); then
    echo "$line" | awk '{print $1, $2}'
  else
    echo "FAILED: stdio $* (K=$k, $tool): $line (see $out/stdio.log)" >&2
    failed=$((failed + 1))
    echo "${line:-0 0}" | awk '{print $1, $2}'
  fi
}
ours_stdio=(env LAGO_API_KEY=bench RUST_LOG=error "$ours" mcp-stdio --base-url "$base")

# Rows: KEY|server|mode. Runs go in this order, ours and bare alternating.
rows=(
  "ours-http|lago-customers|Streamable HTTP, stateless, JSON"
  "bare-http|bare rmcp|Streamable HTTP, stateless, JSON"
  "ours-sessions|lago-customers|Streamable HTTP, sessions, SSE"
  "bare-sessions|bare rmcp|Streamable HTTP, sessions, SSE"
  "ours-stdio|lago-customers|stdio, $conns in flight"
  "bare-stdio|bare rmcp|stdio, $conns in flight"
)
[ "${K1:-1}" = 1 ] && rows+=(
  "ours-stdio1|lago-customers|stdio, 1 in flight"
  "bare-stdio1|bare rmcp|stdio, 1 in flight"
)
[ "${EXTRA:-1}" = 1 ] && rows+=(
  "bare-mt-http|bare rmcp|Streamable HTTP, stateless, JSON; multi-threaded runtime"
  "bare-mt-sessions|bare rmcp|Streamable HTTP, sessions, SSE; multi-threaded runtime"
  "bare-stdio-pipes|bare rmcp|stdio_pipes(), $conns in flight"
  "bare-stdio-filter|bare rmcp|stdio() + our line filter, $conns in flight"
  "bare-stdio-filter-pipes|bare rmcp|stdio_pipes() + our line filter, $conns in flight"
)

run() { # KEY TOOL
  local key=$1 tool=$2
  case $key in
    *-http) http_load "$key" "$tool" "" ;;
    *-sessions) http_load "$key" "$tool" "$(open_session "${url[$key]}")" ;;
    ours-stdio) stdio_load "$conns" "$tool" "${ours_stdio[@]}" ;;
    ours-stdio1) stdio_load 1 "$tool" "${ours_stdio[@]}" ;;
    bare-stdio) stdio_load "$conns" "$tool" "$bare" stdio "$base" ;;
    bare-stdio1) stdio_load 1 "$tool" "$bare" stdio "$base" ;;
    bare-*) stdio_load "$conns" "$tool" "$bare" "${key#bare-}" "$base" ;;
  esac
}

rm -f "$out"/run-*.txt "$out/stdio.log"
echo "== $reps interleaved runs of ${secs}s per row and tool ($tools), $conns connections / in flight" >&2
for r in $(seq 1 "$reps"); do
  for tool in $tools; do
    for row in "${rows[@]}"; do
      key=${row%%|*}
      echo "   run $r, $tool, $key" >&2
      run "$key" "$tool" >> "$out/run-$key-$tool.txt"
    done
  done
done

med() { sort -n | awk '{l[NR]=$0} END {print l[int((NR + 1) / 2)]}'; }
cat <<MD
### MCP tools/call by transport mode: lago-customers vs bare rmcp 3.11
$(nproc) cores, $(uname -r); $reps interleaved runs of ${secs} s per row, medians; $conns wrk
connections for HTTP, $conns requests in flight over stdio unless the row says otherwise.
"vs HTTP" is the CPU per call over the same server's stateless HTTP figure (for the
multi-threaded bare rows, over that runtime's); "ours − bare" is lago-customers' CPU per
call minus the bare server's in the same mode (HTTP: the thread-per-core bare server, as
ours; stdio: both on tokio's multi-threaded runtime).

| Tool | Server | Mode | Calls/s | CPU µs/call | vs HTTP | ours − bare µs | every run, CPU µs/call |
|---|---|---|---|---|---|---|---|
MD
for tool in $tools; do
  declare -A cpu=() rps=()
  for row in "${rows[@]}"; do
    key=${row%%|*}
    f=$out/run-$key-$tool.txt
    rps[$key]=$(awk '{print $1}' "$f" | med)
    cpu[$key]=$(awk '{print $2}' "$f" | med)
  done
  for row in "${rows[@]}"; do
    IFS='|' read -r key server mode <<<"$row"
    f=$out/run-$key-$tool.txt
    who=${key%%-*} what=${key#*-}
    http=${cpu[$who-http]}
    case $key in bare-mt-*) http=${cpu[bare-mt-http]} ;; esac
    ratio=$(awk -v a="${cpu[$key]}" -v b="$http" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')
    diff=""
    if [ "$who" = ours ] && [ -n "${cpu[bare-$what]:-}" ]; then
      diff=$(awk -v a="${cpu[$key]}" -v b="${cpu[bare-$what]}" 'BEGIN{printf "%+.1f", a - b}')
    fi
    all=$(awk '{printf "%s%s", sep, $2; sep=", "}' "$f")
    echo "| $(tool_of "$tool") | $server | $mode | ${rps[$key]} | ${cpu[$key]} | $ratio | $diff | $all |"
  done
done
[ "$failed" -eq 0 ] || { echo "FAILED: $failed runs had bad answers" >&2; exit 1; }
