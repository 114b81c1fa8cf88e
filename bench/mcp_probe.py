"""What an MCP server offers, over Streamable HTTP: used by bench/run.sh for its peer comparison.

usage: python mcp_probe.py session URL
           opens a session (initialize + notifications/initialized) and prints its
           Mcp-Session-Id ("" when the server keeps none): wrk then reuses it.
       python mcp_probe.py features URL EXAMPLE_CUSTOMER_JSON LIST_TOOL LIST_ARGS GET_TOOL GET_ARGS
           prints one line of key=value: tools, annotated (tools with annotations), titled
           (tools with a title, top-level or in annotations), output_schema (tools with one),
           structured (list,get: does the call result carry structuredContent), list_fields and
           get_fields (how many of the example customer's fields, counted recursively as paths,
           with the first element of each array, come back in the call's result), total (that
           count for the example itself: 87 for Lago's).
"""
import json
import sys

import httpx

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
           "MCP-Protocol-Version": "2025-06-18"}


class Peer:
    def __init__(self, url: str):
        self.url, self.http, self.id = url, httpx.Client(timeout=30), 0
        self.headers = dict(HEADERS)
        r = self.http.post(url, headers=self.headers, json={
            "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "bench-probe", "version": "1"}}})
        r.raise_for_status()
        self.session = r.headers.get("mcp-session-id", "")
        if self.session:
            self.headers["Mcp-Session-Id"] = self.session
        self.http.post(url, headers=self.headers,
                       json={"jsonrpc": "2.0", "method": "notifications/initialized"})

    def call(self, method: str, params: dict) -> dict:
        self.id += 1
        r = self.http.post(self.url, headers=self.headers,
                           json={"jsonrpc": "2.0", "id": self.id, "method": method, "params": params})
        r.raise_for_status()
        text = r.text
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            msgs = [json.loads(l[5:]) for l in text.splitlines() if l.startswith("data:") and l[5:].strip()]
            msg = next(m for m in msgs if m.get("id") == self.id)
        else:
            msg = json.loads(text)
        if "error" in msg:
            raise RuntimeError(f"{method}: JSON-RPC error {msg['error']}")
        return msg["result"]


def paths(v, prefix=""):
    out = set()
    if isinstance(v, dict):
        for k, x in v.items():
            out.add(prefix + "." + k)
            out |= paths(x, prefix + "." + k)
    elif isinstance(v, list) and v:
        out |= paths(v[0], prefix + "[]")
    return out


def find_customer(v):
    """The first object holding a lago_id, searched depth first."""
    if isinstance(v, dict):
        if "lago_id" in v and "external_id" in v:
            return v
        for x in v.values():
            c = find_customer(x)
            if c is not None:
                return c
    elif isinstance(v, list):
        for x in v:
            c = find_customer(x)
            if c is not None:
                return c
    return None


def payload(result: dict):
    """What the model gets: structuredContent, else the JSON of the text contents."""
    if result.get("structuredContent") is not None:
        return result["structuredContent"]
    for c in result.get("content", []):
        if c.get("type") == "text":
            try:
                return json.loads(c["text"])
            except ValueError:
                continue
    return None


def main():
    if sys.argv[1] == "session":
        print(Peer(sys.argv[2]).session)
        return
    url, example, list_tool, list_args, get_tool, get_args = sys.argv[2:8]
    with open(example) as f:
        ex = json.load(f)
    ex = ex.get("customer", ex)
    want = paths(ex)
    peer = Peer(url)
    tools, cursor = [], None
    while True:
        res = peer.call("tools/list", {"cursor": cursor} if cursor else {})
        tools += res["tools"]
        cursor = res.get("nextCursor")
        if not cursor:
            break
    out = {
        "tools": len(tools),
        "annotated": sum(1 for t in tools if t.get("annotations")),
        "titled": sum(1 for t in tools if t.get("title") or (t.get("annotations") or {}).get("title")),
        "output_schema": sum(1 for t in tools if t.get("outputSchema")),
    }
    structured = []
    for kind, tool, args in (("list", list_tool, list_args), ("get", get_tool, get_args)):
        res = peer.call("tools/call", {"name": tool, "arguments": json.loads(args)})
        if res.get("isError"):
            raise RuntimeError(f"{tool}: isError: {json.dumps(res)[:500]}")
        structured.append("yes" if res.get("structuredContent") is not None else "no")
        cust = find_customer(payload(res))
        out[f"{kind}_fields"] = len(want & paths(cust)) if cust is not None else 0
    out["structured"] = ",".join(structured)
    out["total"] = len(want)
    print(" ".join(f"{k}={v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
