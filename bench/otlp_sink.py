"""A collector stand-in for benchmarks: accepts OTLP/HTTP exports (`POST /v1/traces`, any
body), answers 200 at once, and counts requests and bytes (printed on exit or SIGUSR1)."""
import http.server
import signal
import sys

count = {"requests": 0, "bytes": 0}


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("content-length", "0"))
        self.rfile.read(n)
        count["requests"] += 1
        count["bytes"] += n
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def report(*_):
    print(f"{count['requests']} export requests, {count['bytes']} bytes", flush=True)


signal.signal(signal.SIGUSR1, report)
signal.signal(signal.SIGTERM, lambda *_: (report(), sys.exit(0)))
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
