#!/usr/bin/env bash
# Test of bench/mcp_call.lua and of bench/run.sh's check of its counts: a tiny server answers
# every tools/call with a fixed body; wrk drives it with the script for about 1 s per case.
#   good      a result                            -> the script counts only good answers, check passes
#   iserror   HTTP 200, result "isError": true    -> all counted bad (is_error), check fails
#   rpcerror  HTTP 200, JSON-RPC error            -> all counted bad (jsonrpc_error), check fails
#   status    HTTP 500                            -> all counted bad (bad_status), check fails
#   sse-err   SSE answer carrying isError: true   -> all counted bad (is_error), check fails
#   missing   a result without the expected text  -> all counted bad (unexpected), check fails
# It also checks that every request carried its own JSON-RPC id.
# usage: bench/test_mcp_call.sh   (installs wrk from Debian when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk (Debian package)" >&2
  apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
fi
tmp=$(mktemp -d)
PORT=${PORT:-4790}
cat > "$tmp/server.py" <<'PY'
import json, re, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE, PORT, IDS = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen, lock = [], threading.Lock()
RESULT = '{"content":[{"type":"text","text":"{\\"customers\\":[{\\"lago_id\\":\\"x\\"}]}"}],"isError":%s}'

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        req = self.rfile.read(int(self.headers["content-length"]))
        rid = json.loads(req)["id"]
        with lock:
            seen.append(rid)
        status, ctype = 200, "application/json"
        if MODE == "good":
            body = '{"jsonrpc":"2.0","id":%d,"result":%s}' % (rid, RESULT % "false")
        elif MODE == "iserror":
            body = '{"jsonrpc":"2.0","id":%d,"result":%s}' % (rid, RESULT % "true")
        elif MODE == "rpcerror":
            body = '{"jsonrpc":"2.0","id":%d,"error":{"code":-32602,"message":"Unknown tool"}}' % rid
        elif MODE == "status":
            status, body = 500, '{"jsonrpc":"2.0","id":%d,"result":%s}' % (rid, RESULT % "false")
        elif MODE == "sse-err":
            ctype = "text/event-stream"
            body = 'event: message\ndata: {"jsonrpc": "2.0", "id": %d, "result": %s}\n\n' % (
                rid, (RESULT % "true").replace('"isError":', '"isError": '))
        elif MODE == "missing":
            body = '{"jsonrpc":"2.0","id":%d,"result":{"content":[],"isError":false}}' % rid
        data = body.encode()
        # One write: headers and body apart meet Nagle and delayed ACKs (40 ms per call).
        head = "HTTP/1.1 %d X\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n" % (status, ctype, len(data))
        self.wfile.write(head.encode() + data)
    def log_message(self, *a):
        pass

class Server(ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, *a):  # wrk closes its connections mid-request at the end
        pass

srv = Server(("127.0.0.1", PORT), H)
def dump(*_):
    with open(IDS, "w") as f:
        f.write("%d %d\n" % (len(seen), len(set(seen))))
    raise SystemExit(0)
import signal
signal.signal(signal.SIGTERM, lambda *a: (dump(), None))
try:
    srv.serve_forever()
except SystemExit:
    pass
PY

wait_port() { for _ in $(seq 1 250); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.02; done; return 1; }
failures=0
# case  expected check result (pass|fail)  counter that must hold every answer
for c in "good pass good_responses" "iserror fail is_error" "rpcerror fail jsonrpc_error" \
         "status fail bad_status" "sse-err fail is_error" "missing fail unexpected"; do
  read -r mode want counter <<<"$c"
  python3 "$tmp/server.py" "$mode" "$PORT" "$tmp/ids-$mode" & srv=$!
  wait_port "$PORT"
  log=$tmp/wrk-$mode.log
  wrk -t2 -c4 -d1s --latency -s bench/mcp_call.lua "http://127.0.0.1:$PORT/mcp" -- \
    lago-list-all-customers '{}' lago_id > "$log"
  kill -TERM $srv; wait $srv 2>/dev/null || true
  read -r rps p50 p99 bad good < <(wrk_summary "$log")
  requests=$(awk '/requests in/ {print $1}' "$log")
  read -r sent unique < "$tmp/ids-$mode"
  counted=$(grep -oE "$counter [0-9]+" "$log" | awk '{print $2}')
  if check_run "$mode" "$log" 2>/dev/null; then got=pass; else got=fail; fi
  line="$mode: wrk requests $requests, good $good, failed $bad, $counter $counted, ids sent $sent (unique $unique), check $got"
  ok=1
  [ "$got" = "$want" ] || ok=0
  [ "${counted:-0}" -gt 0 ] || ok=0
  # Every answer wrk read is counted in the named counter (the server may have answered a few
  # more that wrk stopped reading at the end of the run).
  [ "$counted" -eq "$requests" ] || ok=0
  [ "$sent" -eq "$unique" ] || ok=0
  if [ "$want" = fail ]; then [ "$bad" -eq "$requests" ] && [ "$good" -eq 0 ] || ok=0; fi
  if [ $ok = 1 ]; then echo "ok   $line"; else echo "FAIL $line"; cat "$log"; failures=$((failures + 1)); fi
done
rm -rf "$tmp"
[ $failures -eq 0 ] && echo "all cases passed" || { echo "$failures cases failed"; exit 1; }
