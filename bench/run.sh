#!/usr/bin/env bash
# Benchmarks of the generated adapter, all in one run on this machine, against one local stub
# (bench-lago-stub: Lago's full example bodies, from the shared lago/examples):
#   1. REST: lago-customers vs the stub directly vs nginx proxy_pass (wrk, fixed concurrency)
#   2. MCP peers, tools/call over Streamable HTTP, list customers and get one customer:
#      lago-customers, the official Python MCP SDK (hand-written tools), FastMCP's OpenAPI
#      bridge over Lago's OpenAPI document, Lago's own MCP server (lago-agent-toolkit, built
#      from a pinned commit; skipped with a message when its source cannot be had or built);
#      CPU per call, calls/s, start-up to listening, RSS; and what each offers (tools,
#      annotations, titles, output schemas, structured content, customer fields kept)
#   3. resident memory idle and under load, start-up time to listening
# usage: bench/run.sh [seconds per load run, default 10]   (prints Markdown tables)
#   REPS=3: runs per path and per MCP peer and tool, interleaved; the median (by requests/s) is reported.
#   CONNS=64: connections of every load run.
#   CARGO_TARGET_DIR: where everything is built and kept (default <repo>/target); the
#     results and the Python venv go to $CARGO_TARGET_DIR/bench, the peers' sources to
#     $CARGO_TARGET_DIR/peers.
#   NAFTIKO_SHARED (default ../shared): Lago's example bodies and OpenAPI document.
#   LAGO_TOOLKIT_GIT: a git directory holding getlago/lago-agent-toolkit (default: the local
#     mirror if present, else a clone from GitHub); SKIP_LAGO_TOOLKIT=1 leaves that peer out.
# Any failed request (non-2xx, socket error, or for MCP a JSON-RPC error, an "isError": true
# result or an answer without a customer: see bench/mcp_call.lua) fails the run (exit 1),
# after the tables are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bench/lib.sh
secs=${1:-10}
conns=${CONNS:-64}
reps=${REPS:-3}
use_target
out=$target/bench
mkdir -p "$out"
use_examples
openapi=$shared/lago/openapi.yaml

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx; then
  echo "== installing wrk and nginx (Debian packages)" >&2
  (apt-get install -y -q wrk nginx-light >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk nginx-light >/dev/null; })
fi
venv=$out/venv
if ! "$venv/bin/python" -c "import mcp, fastmcp, httpx, uvicorn, yaml" 2>/dev/null; then
  echo "== installing the Python MCP SDK (PyPI mcp) and FastMCP in $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "mcp==2.3.0" "fastmcp==4.1.6" httpx uvicorn pyyaml
fi
echo "== building (release) in $target" >&2
cargo build -q --release -p lago-customers
build_minproxy

# Lago's own MCP server, at a pinned commit.
toolkit_commit=d5f701870a99fd877fbc19561f967fba32f857de
toolkit=""
if [ -z "${SKIP_LAGO_TOOLKIT:-}" ]; then
  src=$target/peers/lago-agent-toolkit
  if [ "$(cat "$src/.bench-commit" 2>/dev/null)" != "$toolkit_commit" ]; then
    rm -rf "$src"
    git_dir=${LAGO_TOOLKIT_GIT:-}
    [ -z "$git_dir" ] && [ -d /work/.mirror/getlago+lago-agent-toolkit/repo ] && git_dir=/work/.mirror/getlago+lago-agent-toolkit/repo
    if [ -z "$git_dir" ]; then
      git_dir=$out/lago-agent-toolkit.git
      [ -d "$git_dir" ] || git clone -q --bare https://github.com/getlago/lago-agent-toolkit "$git_dir" 2>/dev/null || true
    fi
    mkdir -p "$src"
    if git --git-dir="$git_dir" archive "$toolkit_commit" 2>/dev/null | tar -x -C "$src" 2>/dev/null; then
      echo "$toolkit_commit" > "$src/.bench-commit"
    else
      rm -rf "$src"
    fi
  fi
  if [ -f "$src/mcp/Cargo.toml" ]; then
    echo "== building lago-agent-toolkit $toolkit_commit (release)" >&2
    if (cd "$src/mcp" && cargo build -q --release --locked) 2>"$out/toolkit-build.log"; then
      toolkit=$target/release/lago-mcp-server
    else
      echo "== SKIPPED Lago's MCP server: its build failed (see $out/toolkit-build.log)" >&2
    fi
  else
    echo "== SKIPPED Lago's MCP server: no source of getlago/lago-agent-toolkit at $toolkit_commit (set LAGO_TOOLKIT_GIT)" >&2
  fi
fi
"$venv/bin/python" bench/fastmcp_server.py filter "$openapi" > "$out/lago-customers-openapi.json"

cleanup() { stop_all; [ -f "$out/nginx.pid" ] && kill "$(cat "$out/nginx.pid")" 2>/dev/null || true; }
trap cleanup EXIT
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

STUB=4100 REST=4200 MCP=4300 NGINX=4500 PY=4400 MIN=4600 FAST=4700 TOOLKIT=4800
"$target/release/bench-lago-stub" "127.0.0.1:$STUB" "$examples" & stub=$!; pids+=($stub)
wait_port $STUB
base=http://127.0.0.1:$STUB/api/v1

# start NAME PORT CMD...: starts a server, sets $started (its PID) and records its start-up
# time to listening in $out/startup-NAME. One at a time, on an otherwise idle machine.
start() {
  local name=$1 port=$2 t0; shift 2
  t0=$(date +%s%N)
  "$@" >"$out/$name.log" 2>&1 & started=$!; pids+=($started)
  wait_port "$port"
  echo $(( ($(date +%s%N) - t0) / 1000000 )) > "$out/startup-$name"
}
start ours $MCP env LAGO_API_KEY=bench RUST_LOG=error "$target/release/lago-customers" serve --base-url "$base" \
  --rest-addr "127.0.0.1:$REST" --mcp-addr "127.0.0.1:$MCP"; svc=$started
startup_ms=$(cat "$out/startup-ours")
sleep 1
idle_rss=$(rss_kb $svc)
start py $PY "$venv/bin/python" bench/py_mcp_server.py "$base" $PY; py=$started
start fastmcp $FAST "$venv/bin/python" bench/fastmcp_server.py serve "$out/lago-customers-openapi.json" "$base" $FAST; fast=$started
if [ -n "$toolkit" ]; then
  start toolkit $TOOLKIT env LAGO_API_KEY=bench LAGO_API_URL="$base" "$toolkit" sse --host 127.0.0.1 --port $TOOLKIT; tk=$started
fi
sleep 1

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
PER_CORE=$(nproc) "$target/release/bench-minproxy" "127.0.0.1:$MIN" "$base/customers" & minproxy=$!; pids+=($minproxy)
wait_port $MIN

hz=$(getconf CLK_TCK)
failed_runs=0

# load WHAT URL PIDS [wrk args...] -> "rps p50_ms p99_ms failed cpu_us_per_request"; the CPU
# is that of the PIDS (comma-separated) serving the URL, so it is the price of one request in
# that server. A run with any failed request is reported on stderr and fails the whole run.
load() {
  local what=$1 url=$2 cpu_pids=$3; shift 3
  local log=$out/wrk-$RANDOM.log before after
  before=$(ticks ${cpu_pids//,/ })
  wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s --latency "$url" "$@" > "$log"
  after=$(ticks ${cpu_pids//,/ })
  check_run "$what" "$log" || failed_runs=$((failed_runs + 1))
  read -r rps p50 p99 bad good < <(wrk_summary "$log")
  awk -v ticks=$((after - before)) -v hz="$hz" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v bad="$bad" '
    /requests in/ {n=$1}
    END { printf "%s %s %s %d %.1f\n", rps, p50, p99, bad, (n > 0 ? ticks / hz * 1e6 / n : 0) }' "$log"
}
# The run with the median requests/s of a file of load() lines.
median() { sort -n "$1" | awk '{l[NR]=$0} END {print l[int((NR + 1) / 2)]}'; }

nginx_pids=$(pgrep -f "nginx: worker" | paste -sd,)
echo "== REST load, $conns connections, ${secs}s each, $reps runs per path" >&2
( while kill -0 $svc 2>/dev/null; do r=$(rss_kb $svc); echo "$r"; sleep 0.5; done ) > "$out/rss.log" & sampler=$!
rm -f "$out"/rest-*.txt "$out"/mcp-*.txt
for _ in $(seq 1 "$reps"); do
  load "REST stub" "$base/customers" "$stub" >> "$out/rest-stub.txt"
  load "REST lago-customers" "http://127.0.0.1:$REST/v1/customers" "$svc" >> "$out/rest-ours.txt"
  load "REST nginx" "http://127.0.0.1:$NGINX/api/v1/customers" "$nginx_pids" >> "$out/rest-nginx.txt"
  load "REST minproxy reqwest" "http://127.0.0.1:$MIN/r" "$minproxy" >> "$out/rest-minr.txt"
  load "REST minproxy hyper" "http://127.0.0.1:$MIN/h" "$minproxy" >> "$out/rest-minh.txt"
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

# MCP peers: key, label, URL, PID, list tool and arguments, get tool and arguments.
id=$("$venv/bin/python" -c "import json,sys; print(json.load(open(sys.argv[1]))['customer']['external_id'])" "$examples/customer.response.json")
peers=(ours py fastmcp)
declare -A label url pid list_tool list_args get_tool get_args
label[ours]="lago-customers (rmcp 3.11, stateless, JSON)"; url[ours]=http://127.0.0.1:$MCP/mcp; pid[ours]=$svc
list_tool[ours]=lago-list-all-customers; list_args[ours]='{}'; get_tool[ours]=lago-retrieve-customer; get_args[ours]="{\"external_id\":\"$id\"}"
label[py]="Python MCP SDK 2.3.0, hand-written tools (uvicorn, stateless, JSON)"; url[py]=http://127.0.0.1:$PY/mcp; pid[py]=$py
list_tool[py]=lago-list-all-customers; list_args[py]='{}'; get_tool[py]=lago-retrieve-customer; get_args[py]="{\"external_id\":\"$id\"}"
label[fastmcp]="FastMCP 4.1.6 from_openapi (uvicorn, stateless, JSON)"; url[fastmcp]=http://127.0.0.1:$FAST/mcp; pid[fastmcp]=$fast
list_tool[fastmcp]=findAllCustomers; list_args[fastmcp]='{}'; get_tool[fastmcp]=findCustomer; get_args[fastmcp]="{\"external_customer_id\":\"$id\"}"
if [ -n "$toolkit" ]; then
  peers+=(toolkit)
  label[toolkit]="Lago's MCP server, lago-agent-toolkit ${toolkit_commit:0:7} (rmcp 0.6, sessions, SSE)"; url[toolkit]=http://127.0.0.1:$TOOLKIT/mcp; pid[toolkit]=$tk
  list_tool[toolkit]=list_customers; list_args[toolkit]='{}'; get_tool[toolkit]=get_customer; get_args[toolkit]="{\"external_customer_id\":\"$id\"}"
fi

echo "== MCP features" >&2
declare -A features idle
for p in "${peers[@]}"; do
  idle[$p]=$(rss_kb ${pid[$p]})
  features[$p]=$("$venv/bin/python" bench/mcp_probe.py features "${url[$p]}" "$examples/customer.response.json" \
    "${list_tool[$p]}" "${list_args[$p]}" "${get_tool[$p]}" "${get_args[$p]}") \
    || { echo "FAILED: MCP features of $p" >&2; features[$p]=""; failed_runs=$((failed_runs + 1)); }
  # Peak RSS from here on (lago-customers' includes the REST load before: reset it).
  { echo 5 > "/proc/${pid[$p]}/clear_refs"; } 2>/dev/null || true
done
feat() { local v; v=$(tr ' ' '\n' <<<"${features[$1]}" | awk -F= -v k="$2" '$1 == k {print $2}'); echo "${v:-?}"; }

echo "== MCP tools/call load, $conns connections, ${secs}s each, $reps runs per peer and tool" >&2
for _ in $(seq 1 "$reps"); do
  for tool in list get; do
    for p in "${peers[@]}"; do
      # A server that keeps sessions gets one, opened for the run (wrk sends its id).
      session=""
      [ "$p" = toolkit ] && session=$("$venv/bin/python" bench/mcp_probe.py session "${url[$p]}")
      if [ $tool = list ]; then t=${list_tool[$p]} a=${list_args[$p]}; else t=${get_tool[$p]} a=${get_args[$p]}; fi
      load "MCP $p $t" "${url[$p]}" "${pid[$p]}" -s bench/mcp_call.lua -- "$t" "$a" lago_id "$session" >> "$out/mcp-$p-$tool.txt"
    done
  done
done

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

### MCP peers: tools/call over Streamable HTTP ($conns connections, ${secs} s per run, median of $reps interleaved runs)
CPU µs/call is the CPU time (user + system) of the server process per call; "failed" counts
every bad answer (non-200, JSON-RPC error, isError, no customer in it).

| Server | Tool | Calls/s | p50 ms | p99 ms | failed | CPU µs/call | every run, calls/s |
|---|---|---|---|---|---|---|---|
MD
for tool in list get; do
  for p in "${peers[@]}"; do
    read -r c_rps c_p50 c_p99 c_bad c_cpu < <(median "$out/mcp-$p-$tool.txt")
    all=$(awk '{printf "%s%s", sep, $1; sep=", "}' "$out/mcp-$p-$tool.txt")
    if [ $tool = list ]; then t=${list_tool[$p]}; else t=${get_tool[$p]}; fi
    echo "| ${label[$p]} | $t | $c_rps | $c_p50 | $c_p99 | $c_bad | $c_cpu | $all |"
  done
done
cat <<MD

| Server | start-up to listening | RSS before the MCP load | RSS peak under the MCP load |
|---|---|---|---|
MD
for p in "${peers[@]}"; do
  echo "| ${label[$p]} | $(cat "$out/startup-$p") ms | $(( idle[$p] / 1024 )) MiB | $(( $(hwm_kb ${pid[$p]}) / 1024 )) MiB |"
done
cat <<MD

What each offers (tools/list, and one call of each loaded tool); fields kept: how many of the
$(feat ours total) fields of Lago's example customer (keys at every depth, arrays by their first element)
come back in the tool's result (structuredContent, else the JSON of its text).

| Server | tools | with annotations | with a title | with an output schema | structured content (list, get) | fields kept, list | fields kept, get |
|---|---|---|---|---|---|---|---|
MD
for p in "${peers[@]}"; do
  echo "| ${label[$p]} | $(feat $p tools) | $(feat $p annotated) | $(feat $p titled) | $(feat $p output_schema) | $(feat $p structured) | $(feat $p list_fields) | $(feat $p get_fields) |"
done
[ -n "$toolkit" ] || [ -n "${SKIP_LAGO_TOOLKIT:-}" ] || echo "
Lago's MCP server was skipped: see the messages of the run."

cat <<MD

### Memory and start-up of lago-customers
| What | Value |
|---|---|
| start-up to listening | $startup_ms ms |
| RSS idle | $((idle_rss / 1024)) MiB |
| RSS peak under the REST load | $((peak / 1024)) MiB |
MD
if [ $failed_runs -ne 0 ]; then
  echo "FAILED: $failed_runs load runs had failed requests or bad answers (see above)" >&2
  exit 1
fi
