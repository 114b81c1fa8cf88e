#!/usr/bin/env bash
# Latency of an orchestrated operation: the tutorial's get-ship-with-crew (step 7: two
# upstream GETs, then a lookup), served by the generated REST adapter, against a stub that
# answers each call after DELAY_MS (default 20). Printed next to one call and to the sum of
# the two (what running the steps one after the other would cost).
# usage: bench/orchestration.sh [seconds, default 10]   (needs the shared tutorial material:
#        NAFTIKO_SHARED or ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bench/lib.sh
use_target
secs=${1:-10}
delay=${DELAY_MS:-20}
shared=${NAFTIKO_SHARED:-$root/../shared}
tutorial=$shared/naftiko/beta5/tutorial
[ -f "$tutorial/step-7-shipyard-orchestrated-lookup.yml" ] || { echo "error: no tutorial in $tutorial" >&2; exit 2; }
out=$target/bench/step7
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null

echo "== building the step-7 service (release)" >&2
cargo build -q --release -p naftiko-codegen
rm -rf "$out"
"$target/release/naftiko-codegen" new "$tutorial/step-7-shipyard-orchestrated-lookup.yml" \
  --out "$out" --name step7 --codegen-path "$root/codegen" >/dev/null
(cd "$out" && CARGO_TARGET_DIR=$target/bench/step7-target cargo build -q --release)

trap stop_all EXIT
STUB=4700 REST=4710 MCP=4711 SKILL=4712
python3 bench/delay_stub.py $STUB "$delay" & pids+=($!)
wait_port $STUB
# The binds read ./shared/secrets.yaml relative to the working directory: the tutorial's.
(cd "$tutorial" && RUST_LOG=error "$target/bench/step7-target/release/step7" serve \
  --base-url "registry=http://127.0.0.1:$STUB" --base-url "legacy=http://127.0.0.1:$STUB" \
  --listen "shipyard-api=127.0.0.1:$REST" --listen "shipyard-tools=127.0.0.1:$MCP" \
  --listen "shipyard-skills=127.0.0.1:$SKILL") & pids+=($!)
wait_port $REST
curl -sf "http://127.0.0.1:$REST/ships/IMO-9321483/crew" >/dev/null

latency() { # url -> "mean p50 p99" in ms, one connection
  wrk -t1 -c1 -d"${secs}s" --latency "$1" | awk '
    /Latency/ && !m { mean=$2; m=1 }
    /^ +50%/ { p50=$2 } /^ +99%/ { p99=$2 }
    END { print mean, p50, p99 }'
}
read -r s_mean s_p50 s_p99 < <(latency "http://127.0.0.1:$STUB/ships/IMO-9321483")
read -r o_mean o_p50 o_p99 < <(latency "http://127.0.0.1:$REST/ships/IMO-9321483/crew")
echo
echo "| Request (stub answers each call after ${delay} ms) | mean | p50 | p99 |"
echo "|---|---|---|---|"
echo "| one upstream call, direct | $s_mean | $s_p50 | $s_p99 |"
echo "| get-ship-with-crew (2 calls + lookup), generated REST | $o_mean | $o_p50 | $o_p99 |"
echo
echo "(sequential steps would cost two calls: about 2 x the first row)"
