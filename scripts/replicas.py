#!/usr/bin/env python3
"""Three replicas behind nginx, one stopped mid-run (SIGTERM), traffic throughout.

Starts three `lago-customers serve --sandbox` replicas (each with a control port and
`--shutdown-delay`), nginx in front of their REST and MCP ports, and several client threads
sending idempotent REST reads and MCP `tools/call`s (retrieve the demo customer) through
nginx. Halfway through, one replica gets SIGTERM; when its `/health/ready` answers 503, the
load balancer is reconfigured without it, as a Kubernetes Service drops a pod that is not
ready. Checks: no call failed, readiness went down while the process was still running
(during `--shutdown-delay`, so the balancer stops sending before the listeners close), and
the replica exited on its own. Prints the figures.

Usage: scripts/replicas.py BINARY WORKDIR
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

binary, work = sys.argv[1], Path(sys.argv[2])
work.mkdir(parents=True, exist_ok=True)
DURATION = float(os.environ.get("REPLICAS_SECONDS", "6"))
THREADS = 8
DELAY = 2.0  # --shutdown-delay of the replicas


def free():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            sys.exit(f"a replica exited at start-up ({proc.returncode})")
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1).status == 200:
                return
        except Exception:
            time.sleep(0.05)
    sys.exit("a replica did not become ready")


replicas = []
for i in range(3):
    rest, mcp, control = free(), free(), free()
    log = open(work / f"replica-{i}.log", "w")
    proc = subprocess.Popen(
        [binary, "serve", "--sandbox", "--rest-addr", f"127.0.0.1:{rest}", "--mcp-addr", f"127.0.0.1:{mcp}",
         "--control-addr", f"127.0.0.1:{control}", "--shutdown-delay", str(DELAY), "--workers", "1"],
        stderr=log, stdout=subprocess.DEVNULL)
    replicas.append({"rest": rest, "mcp": mcp, "control": control, "proc": proc})
for r in replicas:
    wait_ready(r["control"], r["proc"])

lb_rest, lb_mcp = free(), free()
conf = work / "nginx.conf"


def write_conf(members):
    conf.write_text(f"""
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
  upstream rest {{ {" ".join(f"server 127.0.0.1:{r['rest']} max_fails=1 fail_timeout=10s;" for r in members)} keepalive 16; }}
  upstream mcp {{ {" ".join(f"server 127.0.0.1:{r['mcp']} max_fails=1 fail_timeout=10s;" for r in members)} keepalive 16; }}
  server {{
    listen 127.0.0.1:{lb_rest};
    location / {{ proxy_pass http://rest; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_next_upstream error timeout http_502 http_503; }}
  }}
  server {{
    listen 127.0.0.1:{lb_mcp};
    location / {{ proxy_pass http://mcp; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_set_header Host localhost;
                 proxy_next_upstream error timeout http_502 http_503; }}
  }}
}}
""")


write_conf(replicas)
nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)], stderr=open(work / "nginx.out", "w"))
end = time.time() + 10
while True:
    try:
        socket.create_connection(("127.0.0.1", lb_rest), timeout=0.5).close()
        socket.create_connection(("127.0.0.1", lb_mcp), timeout=0.5).close()
        break
    except OSError:
        if time.time() > end or nginx.poll() is not None:
            sys.exit("nginx did not start: " + (work / "nginx.out").read_text())
        time.sleep(0.05)

counts = {"rest": 0, "mcp": 0}
failures = []
lock = threading.Lock()
stop = threading.Event()
MCP_CALL = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "lago-retrieve-customer", "arguments": {"external_id": "demo-customer"}}}).encode()


def rest_call():
    with urllib.request.urlopen(f"http://127.0.0.1:{lb_rest}/v1/customers/demo-customer", timeout=10) as r:
        body = json.load(r)
        assert r.status == 200 and body["customer"]["external_id"] == "demo-customer", body


def mcp_call():
    req = urllib.request.Request(f"http://127.0.0.1:{lb_mcp}/mcp", data=MCP_CALL, method="POST", headers={
        "content-type": "application/json", "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-06-18"})
    with urllib.request.urlopen(req, timeout=10) as r:
        body = json.load(r)
        result = body.get("result", {})
        assert r.status == 200 and not result.get("isError") and \
            result["structuredContent"]["customer"]["external_id"] == "demo-customer", body


def worker(kind):
    call = rest_call if kind == "rest" else mcp_call
    while not stop.is_set():
        try:
            call()
            with lock:
                counts[kind] += 1
        except Exception as e:  # noqa: BLE001: every failure counts
            with lock:
                failures.append(f"{kind}: {e!r}")


threads = [threading.Thread(target=worker, args=("rest" if i % 2 == 0 else "mcp",)) for i in range(THREADS)]
for t in threads:
    t.start()
time.sleep(DURATION / 2)

# Stop one replica; watch its readiness and its process.
victim = replicas[1]
term_at = time.time()
victim["proc"].send_signal(signal.SIGTERM)
ready_down_at = None
while victim["proc"].poll() is None:
    if ready_down_at is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{victim['control']}/health/ready", timeout=1)
        except urllib.error.HTTPError as e:
            if e.code == 503:
                ready_down_at = time.time()
                # What a Kubernetes Service does when a pod is not ready: the load balancer
                # stops sending to it (nginx reloads gracefully; its old workers finish).
                write_conf([r for r in replicas if r is not victim])
                nginx.send_signal(signal.SIGHUP)
        except Exception:
            pass
    time.sleep(0.02)
exited_at = time.time()
time.sleep(max(0.0, DURATION / 2 - (exited_at - term_at)))
stop.set()
for t in threads:
    t.join()
nginx.terminate()
nginx.wait()
for r in replicas:
    if r["proc"].poll() is None:
        r["proc"].terminate()
        r["proc"].wait(timeout=30)

total = counts["rest"] + counts["mcp"]
print(f"calls through nginx: {total} ({counts['rest']} REST, {counts['mcp']} MCP) in {DURATION:.0f} s, "
      f"failed: {len(failures)}")
if ready_down_at is not None:
    print(f"stopped replica: readiness 503 after {1000 * (ready_down_at - term_at):.0f} ms, "
          f"process exited after {1000 * (exited_at - term_at):.0f} ms (exit code {victim['proc'].returncode})")
problems = []
if failures:
    problems.append(f"{len(failures)} failed calls, e.g. {failures[:3]}")
if ready_down_at is None or ready_down_at >= exited_at:
    problems.append("readiness did not go down before the process exited")
if victim["proc"].returncode != 0:
    problems.append(f"the stopped replica exited with {victim['proc'].returncode}")
if counts["rest"] == 0 or counts["mcp"] == 0:
    problems.append("no traffic of one kind went through")
if problems:
    sys.exit("FAIL " + "; ".join(problems))
print("PASS no failed call while a replica stopped; readiness went down before it exited")
