#!/usr/bin/env bash
# Benchmarks of the generated adapter, all in one run on this machine, against one local stub:
#   1. REST: lago-customers vs the stub directly vs nginx proxy_pass (wrk, fixed concurrency)
#   2. MCP tools/call: lago-customers vs the official Python MCP SDK calling the same stub
#   3. the generator (criterion: seed, 10 .. 10,000 operations) and an incremental rebuild
#   4. resident memory idle and under load, start-up time to listening
# usage: bench/run.sh [seconds per load run, default 10]   (prints Markdown tables)
#   REPS=3: REST runs per path, interleaved; the median (by requests/s) is reported.
#   CONNS=64: connections of every load run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-10}
conns=${CONNS:-64}
reps=${REPS:-3}
out=$root/target/bench
mkdir -p "$out"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx; then
  echo "== installing wrk and nginx (Debian packages)" >&2
  (apt-get install -y -q wrk nginx-light >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk nginx-light >/dev/null; })
fi
venv=$out/venv
if [ ! -x "$venv/bin/python" ]; then
  echo "== installing the Python MCP SDK (PyPI mcp) in $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "mcp==2.3.0" httpx uvicorn
fi
echo "== building (release)" >&2
cargo build -q --release -p lago-customers --example bench_stub
cargo build -q --release -p lago-customers
cp Cargo.lock bench/minproxy/Cargo.lock
(cd bench/minproxy && CARGO_TARGET_DIR=$root/target/minproxy cargo build -q --release)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$out/nginx.pid" ] && kill "$(cat "$out/nginx.pid")" 2>/dev/null || true; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 500); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.02; done; echo "port $1 never opened" >&2; return 1; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

STUB=4100 REST=4200 MCP=4300 NGINX=4500 PY=4400 MIN=4600
target/release/examples/bench_stub "127.0.0.1:$STUB" 2>/dev/null & stub=$!; pids+=($stub)
wait_port $STUB

start_ns=$(date +%s%N)
LAGO_API_KEY=bench RUST_LOG=error target/release/lago-customers serve --base-url "http://127.0.0.1:$STUB/api/v1" \
  --rest-addr "127.0.0.1:$REST" --mcp-addr "127.0.0.1:$MCP" & svc=$!; pids+=($svc)
wait_port $MCP
startup_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
sleep 1
idle_rss=$(rss_kb $svc)

cat > "$out/nginx.conf" <<NGINX
worker_processes auto;
pid $out/nginx.pid;
error_log $out/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream stub { server 127.0.0.1:$STUB; keepalive 128; }
  server {
    listen 127.0.0.1:$NGINX;
    location / { proxy_pass http://stub; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
nginx -c "$out/nginx.conf" -p "$out"
wait_port $NGINX

# One runtime per core, as lago-customers serves (see codegen/runtime/src/workers.rs).
PER_CORE=$(nproc) target/minproxy/release/bench-minproxy "127.0.0.1:$MIN" "http://127.0.0.1:$STUB/api/v1/customers" & minproxy=$!; pids+=($minproxy)
wait_port $MIN

"$venv/bin/python" bench/py_mcp_server.py "http://127.0.0.1:$STUB/api/v1" $PY 2>"$out/py.log" & py=$!; pids+=($py)
wait_port $PY

# CPU time (user + system, clock ticks) of processes, summed.
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
hz=$(getconf CLK_TCK)

# wrk run -> "rps p50_ms p99_ms bad cpu_us_per_request"; the CPU is that of the PIDS
# (comma-separated) serving the URL, so it is the price of one request in that server.
load() {
  local url=$1 cpu_pids=$2; shift 2
  local log=$out/wrk-$RANDOM.log before after
  before=$(ticks ${cpu_pids//,/ })
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$@" "$url" > "$log"
  after=$(ticks ${cpu_pids//,/ })
  awk -v ticks=$((after - before)) -v hz="$hz" -v secs="$secs" '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /Non-2xx/ {bad+=$NF} /Socket errors/ {bad+=1}
    /bad_responses/ {bad+=$2}
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    END { printf "%.0f %.3f %.3f %d %.1f\n", rps, ms(p50), ms(p99), bad, (rps > 0 ? ticks / hz * 1e6 / (rps * secs) : 0) }' "$log"
}
# The run with the median requests/s of a file of load() lines.
median() { sort -n "$1" | awk '{l[NR]=$0} END {print l[int((NR + 1) / 2)]}'; }

nginx_pids=$(pgrep -f "nginx: worker" | paste -sd,)
echo "== REST load, $conns connections, ${secs}s each, $reps runs per path" >&2
( while kill -0 $svc 2>/dev/null; do r=$(rss_kb $svc); echo "$r"; sleep 0.5; done ) > "$out/rss.log" & sampler=$!
rm -f "$out"/rest-*.txt
for _ in $(seq 1 "$reps"); do
  load "http://127.0.0.1:$STUB/api/v1/customers" "$stub" >> "$out/rest-stub.txt"
  load "http://127.0.0.1:$REST/v1/customers" "$svc" >> "$out/rest-ours.txt"
  load "http://127.0.0.1:$NGINX/api/v1/customers" "$nginx_pids" >> "$out/rest-nginx.txt"
  load "http://127.0.0.1:$MIN/r" "$minproxy" >> "$out/rest-minr.txt"
  load "http://127.0.0.1:$MIN/h" "$minproxy" >> "$out/rest-minh.txt"
done
kill $sampler 2>/dev/null || true
peak=$(sort -n "$out/rss.log" | tail -1)
read -r d_rps d_p50 d_p99 d_bad d_cpu < <(median "$out/rest-stub.txt")
read -r o_rps o_p50 o_p99 o_bad o_cpu < <(median "$out/rest-ours.txt")
read -r n_rps n_p50 n_p99 n_bad n_cpu < <(median "$out/rest-nginx.txt")
read -r r_rps r_p50 r_p99 r_bad r_cpu < <(median "$out/rest-minr.txt")
read -r h_rps h_p50 h_p99 h_bad h_cpu < <(median "$out/rest-minh.txt")
all_ours=$(awk '{printf "%s%s", sep, $1; sep=", "}' "$out/rest-ours.txt")
all_nginx=$(awk '{printf "%s%s", sep, $1; sep=", "}' "$out/rest-nginx.txt")

echo "== MCP tools/call load" >&2
read -r m_rps m_p50 m_p99 m_bad m_cpu < <(load "http://127.0.0.1:$MCP/mcp" "$svc" -s bench/mcp_call.lua)
read -r p_rps p_p50 p_p99 p_bad p_cpu < <(load "http://127.0.0.1:$PY/mcp" "$py" -s bench/mcp_call.lua)

cat <<MD
### Machine
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(rustc --version)

### REST proxy overhead ($conns connections, ${secs} s per run, median of $reps interleaved runs, wrk)
CPU µs/request is the CPU time (user + system) of the server named in the row, per request served.

| Path | Requests/s | p50 ms | p99 ms | failed | CPU µs/request | vs nginx |
|---|---|---|---|---|---|---|
| stub directly | $d_rps | $d_p50 | $d_p99 | $d_bad | $d_cpu (the stub) | |
| nginx proxy_pass | $n_rps | $n_p50 | $n_p99 | $n_bad | $n_cpu | 1.00 |
| lago-customers | $o_rps | $o_p50 | $o_p99 | $o_bad | $o_cpu | $(awk -v a="$o_rps" -v b="$n_rps" 'BEGIN{printf "%.2f", a/b}') |
| yardstick: bare axum + reqwest proxy, per core | $r_rps | $r_p50 | $r_p99 | $r_bad | $r_cpu | $(awk -v a="$r_rps" -v b="$n_rps" 'BEGIN{printf "%.2f", a/b}') |
| yardstick: bare axum + hyper proxy, per core | $h_rps | $h_p50 | $h_p99 | $h_bad | $h_cpu | $(awk -v a="$h_rps" -v b="$n_rps" 'BEGIN{printf "%.2f", a/b}') |

Every run, requests/s: lago-customers $all_ours; nginx $all_nginx.

Added p99 over the stub: lago-customers $(awk -v a="$o_p99" -v b="$d_p99" 'BEGIN{printf "%.3f", a-b}') ms, nginx $(awk -v a="$n_p99" -v b="$d_p99" 'BEGIN{printf "%.3f", a-b}') ms.

### MCP tools/call (lago-list-all-customers, $conns connections, ${secs} s each)
| Server | Calls/s | p50 ms | p99 ms | failed | CPU µs/call | ratio |
|---|---|---|---|---|---|---|
| Python MCP SDK 2.3.0 (uvicorn, stateless, JSON) | $p_rps | $p_p50 | $p_p99 | $p_bad | $p_cpu | 1.0 |
| lago-customers (rmcp, stateless, JSON) | $m_rps | $m_p50 | $m_p99 | $m_bad | $m_cpu | $(awk -v a="$m_rps" -v b="$p_rps" 'BEGIN{printf "%.1f", a/b}') |

### Memory and start-up
| What | Value |
|---|---|
| start-up to listening | $startup_ms ms |
| RSS idle | $((idle_rss / 1024)) MiB |
| RSS peak under the REST load | $((peak / 1024)) MiB |
MD
