#!/usr/bin/env bash
# A/B of two lago-customers binaries (a change's cost): REST GET /v1/customers and MCP
# tools/call (get one customer) through each, against the same local stub of Lago's full
# example bodies, runs interleaved A, B, A, B... so that a busy machine hurts both alike.
# usage: bench/ab.sh A_BIN B_BIN [seconds per run, default 10]   (prints a Markdown table)
#   REPS=5 runs per binary and surface (median by requests/s), CONNS=64 connections.
#   A_ARGS / B_ARGS: extra `serve` arguments of each (e.g. B_ARGS="--control-addr 127.0.0.1:0").
#   A_ENV / B_ENV: extra environment of each, `NAME=value` words
#     (e.g. B_ENV="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318").
#   OTLP_SINK=PORT: also start a collector stand-in on PORT that accepts OTLP/HTTP exports
#     (bench/otlp_sink.py) and counts the spans it receives.
#   CARGO_TARGET_DIR (default <repo>/target): where bench-lago-stub is built.
# Any failed request fails the run (exit 1), after the table is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bench/lib.sh
a_bin=$(realpath "$1") b_bin=$(realpath "$2")
secs=${3:-10}
conns=${CONNS:-64}
reps=${REPS:-5}
use_target
out=$target/bench-ab
mkdir -p "$out"
use_examples
command -v wrk >/dev/null || { echo "error: wrk is needed (apt-get install wrk)" >&2; exit 2; }
build_minproxy --bin bench-lago-stub

trap stop_all EXIT
hz=$(getconf CLK_TCK)

STUB=4110
"$target/release/bench-lago-stub" "127.0.0.1:$STUB" "$examples" & pids+=($!)
wait_port $STUB
base=http://127.0.0.1:$STUB/api/v1
id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['customer']['external_id'])" "$examples/customer.response.json")

declare -A pid rest mcp
# shellcheck disable=SC2086
start() { # KEY BIN REST_PORT MCP_PORT ARGS ENV
  env LAGO_API_KEY=bench RUST_LOG=error $6 "$2" serve --base-url "$base" \
    --rest-addr "127.0.0.1:$3" --mcp-addr "127.0.0.1:$4" $5 > "$out/$1.log" 2>&1 & pids+=($!)
  pid[$1]=$!; rest[$1]=http://127.0.0.1:$3/v1/customers; mcp[$1]=http://127.0.0.1:$4/mcp
  wait_port "$3"; wait_port "$4"
}
if [ -n "${OTLP_SINK:-}" ]; then
  python3 bench/otlp_sink.py "$OTLP_SINK" > "$out/otlp-sink.log" 2>&1 & pids+=($!)
  sink=$!
  wait_port "$OTLP_SINK"
fi
start a "$a_bin" 4210 4310 "${A_ARGS:-}" "${A_ENV:-}"
start b "$b_bin" 4220 4320 "${B_ARGS:-}" "${B_ENV:-}"
sleep 1

failed=0
# Instructions retired by the server (user and kernel), counted by perf when the machine
# allows it: unlike CPU time, the count does not grow when other processes share the cores.
perf_ok=0
if command -v perf >/dev/null && perf stat -e instructions -x, true >/dev/null 2>&1 \
  && perf stat -e instructions -x, true 2>&1 | grep -q '^[0-9]'; then perf_ok=1; fi
# load KEY WHAT URL [wrk args] -> "rps p50 p99 failed cpu_us_per_request instructions_per_request"
load() {
  local key=$1 what=$2 url=$3; shift 3
  local log=$out/wrk-$key-$what-$RANDOM.log before after perf_pid=""
  before=$(ticks "${pid[$key]}")
  if [ "$perf_ok" = 1 ]; then
    perf stat -e instructions -x, -o "$log.perf" -p "${pid[$key]}" & perf_pid=$!
  fi
  wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s --latency "$url" "$@" > "$log"
  after=$(ticks "${pid[$key]}")
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; fi
  check_run "$key $what" "$log" || failed=$((failed + 1))
  read -r rps p50 p99 bad _ < <(wrk_summary "$log")
  local instr=0
  [ -f "$log.perf" ] && instr=$(awk -F, '$3 ~ /instructions/ && $1 ~ /^[0-9]+$/ {print $1}' "$log.perf" | head -n 1)
  awk -v ticks=$((after - before)) -v hz="$hz" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v bad="$bad" -v instr="${instr:-0}" '
    /requests in/ {n=$1}
    END { printf "%s %s %s %d %.1f %.0f\n", rps, p50, p99, bad, (n > 0 ? ticks / hz * 1e6 / n : 0), (n > 0 ? instr / n : 0) }' "$log"
}
median() { sort -n "$1" | awk '{l[NR]=$0} END {print l[int((NR + 1) / 2)]}'; }

rm -f "$out"/*.txt
echo "== $reps interleaved runs of ${secs}s per binary and surface, $conns connections" >&2
for _ in $(seq 1 "$reps"); do
  for key in a b; do
    load $key rest "${rest[$key]}" >> "$out/$key-rest.txt"
    load $key mcp "${mcp[$key]}" -s bench/mcp_call.lua -- lago-retrieve-customer \
      "{\"external_id\":\"$id\"}" lago_id "" >> "$out/$key-mcp.txt"
  done
done

row() { # LABEL FILE
  local rps p50 p99 bad cpu instr all instr_med
  read -r rps p50 p99 bad cpu instr < <(median "$2")
  all=$(awk '{printf "%s%s", sep, $1; sep=", "}' "$2")
  # The median instruction count of the runs (its own median, not the req/s median's run).
  instr_med=$(awk '{print $6}' "$2" | sort -n | awk '{l[NR]=$0} END {print l[int((NR + 1) / 2)]}')
  [ "$perf_ok" = 1 ] || instr_med="n/a"
  echo "| $1 | $rps | $p50 | $p99 | $cpu | $instr_med | $bad | $all |"
}
cat <<MD
| Binary, surface | req/s (median) | p50 ms | p99 ms | CPU µs/req | instructions/req (median) | failed | every run, req/s |
|---|---|---|---|---|---|---|---|
$(row "A \`$(basename "$a_bin")\` ${A_ARGS:-} ${A_ENV:-}, REST" "$out/a-rest.txt")
$(row "B \`$(basename "$b_bin")\` ${B_ARGS:-} ${B_ENV:-}, REST" "$out/b-rest.txt")
$(row "A \`$(basename "$a_bin")\` ${A_ARGS:-} ${A_ENV:-}, MCP get" "$out/a-mcp.txt")
$(row "B \`$(basename "$b_bin")\` ${B_ARGS:-} ${B_ENV:-}, MCP get" "$out/b-mcp.txt")
MD
if [ -n "${OTLP_SINK:-}" ]; then
  kill -USR1 "$sink" 2>/dev/null || true
  sleep 0.3
  echo "OTLP sink: $(tail -n 1 "$out/otlp-sink.log")" >&2
fi
[ "$failed" -eq 0 ] || { echo "FAILED: $failed runs had failed requests" >&2; exit 1; }
