"""A stand-in for the tutorial's Maritime Registry that answers every call after a delay
(the OpenAPI document's examples): used by bench/orchestration.sh.

usage: python3 delay_stub.py PORT DELAY_MS
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHIP = {
    "imo_number": "IMO-9321483", "vessel_name": "Northern Star", "vessel_type": "cargo",
    "flag_code": "NO", "operational_status": "active", "year_built": 2015,
    "gross_tonnage": 42000, "dimensions": {"length_overall": 229, "beam": 32, "draft": 12.5},
    "assignedCrew": ["CREW-001", "CREW-003"],
}
CREW = [
    {"crewId": "CREW-001", "fullName": "Erik Haugen", "role": "captain"},
    {"crewId": "CREW-002", "fullName": "Mei Lin", "role": "chief-engineer"},
    {"crewId": "CREW-003", "fullName": "Ana Costa", "role": "first-officer"},
]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        time.sleep(DELAY)
        body = CREW if self.path.startswith("/crew") else SHIP
        data = json.dumps(body).encode()
        # One write (headers and body): two small writes meet Nagle and delayed ACKs (40 ms).
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            f"content-length: {len(data)}\r\n\r\n"
        ).encode()
        self.wfile.write(head + data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    DELAY = int(sys.argv[2]) / 1000.0
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
