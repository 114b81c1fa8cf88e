"""FastMCP's OpenAPI bridge (PyPI `fastmcp`, `FastMCP.from_openapi`) over Lago's own OpenAPI
document cut down to the operations of specs/lago-customers.yaml (9 operations under
/customers; the whole /customers subtree has 34, wallets and payment methods among them), so
that its tool list is comparable: a comparison server of bench/run.sh, calling the same stub.
Every operation becomes a tool (FastMCP's default route map), named by its operationId.

usage: python fastmcp_server.py filter LAGO_OPENAPI_YAML > customers.json   (once, untimed)
       python fastmcp_server.py serve customers.json STUB_BASE_URL PORT
"""
import json
import logging
import sys

import httpx
import uvicorn
import yaml
from fastmcp import FastMCP

# The operations of specs/lago-customers.yaml.
OPERATIONS = {
    "createCustomer", "findAllCustomers", "findCustomer", "destroyCustomer", "deleteAppliedCoupon",
    "generateCustomerCheckoutURL", "findCustomerCurrentUsage", "findAllCustomerPastUsage",
    "getCustomerPortalUrl",
}
for name in ("httpx", "httpx2", "mcp", "fastmcp"):
    logging.getLogger(name).setLevel(logging.WARNING)


def customers_only(doc: dict) -> dict:
    """The document with only its /customers paths and the components they reach."""
    doc = dict(doc)
    paths = {}
    for p, item in doc["paths"].items():
        if not p.startswith("/customers"):
            continue
        ops = {m: o for m, o in item.items() if not isinstance(o, dict) or "operationId" not in o or o["operationId"] in OPERATIONS}
        if any(isinstance(o, dict) and "operationId" in o for o in ops.values()):
            paths[p] = ops
    doc["paths"] = paths
    reached: set[tuple[str, str]] = set()
    todo = [doc["paths"]]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/"):
                kind, name = ref.split("/")[2:4]
                if (kind, name) not in reached:
                    reached.add((kind, name))
                    todo.append(doc["components"][kind][name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    comps = {}
    for kind, name in sorted(reached):
        comps.setdefault(kind, {})[name] = doc["components"][kind][name]
    if "securitySchemes" in doc.get("components", {}):
        comps["securitySchemes"] = doc["components"]["securitySchemes"]
    doc["components"] = comps
    return doc


if sys.argv[1] == "filter":
    with open(sys.argv[2]) as f:
        doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    json.dump(customers_only(doc), sys.stdout, indent=1)
    sys.exit(0)
SPEC, STUB, PORT = sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(SPEC) as f:
    spec = json.load(f)
spec["servers"] = [{"url": STUB}]
client = httpx.AsyncClient(base_url=STUB, headers={"Authorization": "Bearer bench"}, timeout=30)
mcp = FastMCP.from_openapi(openapi_spec=spec, client=client, name="fastmcp-lago-customers")
app = mcp.http_app(json_response=True, stateless_http=True)
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
