#!/usr/bin/env bash
# The REST adapter's own cost: CPU per request of lago-customers against the bare axum +
# reqwest proxy (bench/minproxy's `/r`, the same stack with nothing of ours) and the bare
# axum + hyper one (`/h`), all in front of the same stub, in interleaved runs.
# Each round loads lago-customers, then /r, then /h, so a busy machine hurts them alike; the
# gap is taken within each round (ours minus /r) and its median reported with every round's.
# usage: bench/rest_gap.sh [LAGO_CUSTOMERS_BIN] [seconds per run, default 10]
#   (default binary: $CARGO_TARGET_DIR/release/lago-customers, built when absent)
#   REPS=7 rounds, CONNS=64 connections, SERVE_ARGS: extra `serve` arguments of ours.
# Any failed request fails the run (exit 1), after the table is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bench/lib.sh
use_target
bin=${1:-$target/release/lago-customers}
secs=${2:-10}
conns=${CONNS:-64}
reps=${REPS:-7}
out=$target/bench-gap
mkdir -p "$out"
use_examples
command -v wrk >/dev/null || { echo "error: wrk is needed (apt-get install wrk)" >&2; exit 2; }
[ -x "$bin" ] || cargo build -q --release -p lago-customers
build_minproxy

trap stop_all EXIT
hz=$(getconf CLK_TCK)

STUB=4130 OURS=4230 MCP=4330 MIN=4430
"$target/release/bench-lago-stub" "127.0.0.1:$STUB" "$examples" & pids+=($!)
wait_port $STUB
base=http://127.0.0.1:$STUB/api/v1
# shellcheck disable=SC2086
LAGO_API_KEY=bench RUST_LOG=error "$bin" serve --base-url "$base" --rest-addr "127.0.0.1:$OURS" \
  --mcp-addr "127.0.0.1:$MCP" ${SERVE_ARGS:-} > "$out/ours.log" 2>&1 & ours=$!; pids+=($ours)
# One runtime per core, as lago-customers serves (codegen/runtime/src/workers.rs).
PER_CORE=$(nproc) "$target/release/bench-minproxy" "127.0.0.1:$MIN" "$base/customers" & minproxy=$!; pids+=($minproxy)
wait_port $OURS; wait_port $MIN
sleep 1

failed=0
# load WHAT URL PID -> "rps p99_ms cpu_us_per_request"
load() {
  local what=$1 url=$2 p=$3 log before after
  log=$out/wrk-$RANDOM.log
  before=$(ticks "$p")
  wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s --latency "$url" > "$log"
  after=$(ticks "$p")
  check_run "$what" "$log" || failed=$((failed + 1))
  read -r rps _ p99 _ _ < <(wrk_summary "$log")
  awk -v ticks=$((after - before)) -v hz="$hz" -v rps="$rps" -v p99="$p99" '
    /requests in/ {n=$1}
    END { printf "%s %s %.2f\n", rps, p99, (n > 0 ? ticks / hz * 1e6 / n : 0) }' "$log"
}

echo "== $reps rounds of ${secs}s runs: lago-customers, bare reqwest, bare hyper; $conns connections" >&2
: > "$out/rounds.txt"
for r in $(seq 1 "$reps"); do
  read -r o_rps o_p99 o_cpu < <(load "lago-customers" "http://127.0.0.1:$OURS/v1/customers" $ours)
  read -r r_rps r_p99 r_cpu < <(load "bare reqwest" "http://127.0.0.1:$MIN/r" $minproxy)
  read -r h_rps h_p99 h_cpu < <(load "bare hyper" "http://127.0.0.1:$MIN/h" $minproxy)
  echo "$r $o_rps $o_cpu $r_rps $r_cpu $h_rps $h_cpu" >> "$out/rounds.txt"
  echo "round $r: ours $o_cpu, reqwest $r_cpu, hyper $h_cpu µs/req" >&2
done

med() { sort -g | awk '{l[NR]=$0} END {print l[int((NR + 1) / 2)]}'; }
col() { awk -v c="$1" '{print $c}' "$out/rounds.txt" | med; }
gap=$(awk '{printf "%.2f\n", $3 - $5}' "$out/rounds.txt" | med)
gaps=$(awk '{printf "%s%+.2f", sep, $3 - $5; sep=", "}' "$out/rounds.txt")
cat <<MD
| Server | req/s (median) | CPU µs/req (median) |
|---|---|---|
| lago-customers | $(col 2) | $(col 3) |
| bare axum + reqwest (\`bench/minproxy\` /r) | $(col 4) | $(col 5) |
| bare axum + hyper (\`bench/minproxy\` /h) | $(col 6) | $(col 7) |

The adapter's own cost (lago-customers minus bare reqwest, per round, median): **$gap µs/req**
(every round: $gaps).
MD
[ "$failed" -eq 0 ] || { echo "FAILED: $failed runs had failed requests" >&2; exit 1; }
