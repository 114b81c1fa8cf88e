#!/usr/bin/env bash
# CPU profiles (perf, cpu-clock samples) of lago-customers and the bare rmcp server
# (bench-minmcp) under tools/call load, per transport mode, for bench/mcp_modes.sh's
# question of where each mode's extra cost goes.
# usage: bench/minmcp/profile.sh LAGO_CUSTOMERS_BIN [MODE...]   (MODE: http sessions stdio;
#   default all three). Needs perf, wrk, curl, and bench-lago-stub, bench-minmcp and
#   bench-mcp-stdio-load built in $CARGO_TARGET_DIR/release (bench/mcp_modes.sh builds them).
#   SECS=6: seconds sampled, in the middle of a load run of SECS + 4 s.
#   PORT=4970: first of 4 consecutive local ports used.
# For each mode and server it writes to $CARGO_TARGET_DIR/bench-mcp-profile/:
#   MODE-SERVER.data      the perf record
#   MODE-SERVER.top.txt   the top symbols by self time (perf report --no-children)
#   MODE-SERVER.stat.txt  perf stat software counters (task-clock, context switches,
#                         migrations) over the same window, and the calls answered in it
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
ours=$(realpath "$1"); shift
modes=("$@"); [ ${#modes[@]} -gt 0 ] || modes=(http sessions stdio)
secs=${SECS:-6}
port=${PORT:-4970}
out=$target/bench-mcp-profile
mkdir -p "$out"
examples=${NAFTIKO_SHARED:-$root/../shared}/lago/examples
id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['customer']['external_id'])" "$examples/customer.response.json")
bare=$target/release/bench-minmcp
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 3000); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.02; done; return 1; }
"$target/release/bench-lago-stub" "127.0.0.1:$port" "$examples" > /dev/null 2>&1 & pids+=($!)
wait_port "$port"
base=http://127.0.0.1:$port/api/v1
export CLK_TCK=$(getconf CLK_TCK)

# sample NAME PID: perf record + perf stat of PID for $secs, then the top symbols.
sample() {
  local name=$1 p=$2
  perf stat -e task-clock,context-switches,cpu-migrations -p "$p" -o "$out/$name.stat.txt" -- sleep "$secs" &
  local st=$!
  perf record -q -F 1999 -e cpu-clock -p "$p" -o "$out/$name.data" -- sleep "$secs" 2>/dev/null
  wait $st
  perf report -i "$out/$name.data" --no-children --sort dso,sym --percent-limit 0.7 --stdio 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | head -45 > "$out/$name.top.txt"
}

session() {
  local h; h=$(mktemp)
  curl -sS -o /dev/null -D "$h" -X POST "$1" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"profile","version":"1"}}}'
  local sid; sid=$(awk -F': *' 'tolower($1) == "mcp-session-id" {gsub(/\r/, "", $2); print $2}' "$h")
  curl -sS -o /dev/null -X POST "$1" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $sid" \
    -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  echo "$sid"
}

for mode in "${modes[@]}"; do
  for server in ours bare; do
    name=$mode-$server
    echo "== $name" >&2
    case $mode in
      http | sessions)
        if [ $server = ours ]; then
          flag=(); [ "$mode" = sessions ] && flag=(--mcp-sessions)
          env LAGO_API_KEY=bench RUST_LOG=error "$ours" serve --base-url "$base" \
            --rest-addr "127.0.0.1:$((port + 1))" --mcp-addr "127.0.0.1:$((port + 2))" "${flag[@]}" > /dev/null 2>&1 &
        else
          PER_CORE=$(nproc) "$bare" "$mode" "$base" "127.0.0.1:$((port + 2))" > /dev/null 2>&1 &
        fi
        p=$!; pids+=($p)
        wait_port $((port + 2)); sleep 0.5
        sid=""; [ "$mode" = sessions ] && sid=$(session "http://127.0.0.1:$((port + 2))/mcp")
        wrk -t2 -c64 -d$((secs + 4))s -s bench/mcp_call.lua "http://127.0.0.1:$((port + 2))/mcp" \
          -- lago-retrieve-customer "{\"external_id\":\"$id\"}" lago_id "$sid" > "$out/$name.wrk.txt" &
        w=$!
        sleep 2
        sample "$name" "$p"
        wait $w
        kill "$p"; wait "$p" 2>/dev/null || true
        grep -E 'Requests/sec|bad_responses' "$out/$name.wrk.txt" >> "$out/$name.stat.txt"
        ;;
      stdio)
        if [ $server = ours ]; then
          cmd=(env LAGO_API_KEY=bench RUST_LOG=error "$ours" mcp-stdio --base-url "$base")
        else
          cmd=("$bare" stdio "$base")
        fi
        WARMUP=0.5 "$target/release/bench-mcp-stdio-load" 64 $((secs + 3)) lago-retrieve-customer \
          "{\"external_id\":\"$id\"}" lago_id -- "${cmd[@]}" > "$out/$name.load.txt" &
        w=$!
        sleep 1.5
        p=$(pgrep -n -P "$w")
        sample "$name" "$p"
        wait $w
        echo "driver: calls/s CPU_us/call good bad = $(cat "$out/$name.load.txt")" >> "$out/$name.stat.txt"
        ;;
    esac
  done
done
echo "profiles in $out" >&2
