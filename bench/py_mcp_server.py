"""The tools of lago-customers that bench/run.sh loads (`lago-list-all-customers`,
`lago-retrieve-customer`), hand-written on the official Python MCP SDK (PyPI `mcp`), calling
the same stub: a comparison server of bench/run.sh.

usage: python py_mcp_server.py STUB_BASE_URL PORT
"""
import logging
import sys
from typing import Any

import httpx
import uvicorn
from mcp.server.mcpserver import MCPServer

STUB, PORT = sys.argv[1], int(sys.argv[2])
# Per-request INFO logs would slow it down for nothing.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("mcp").setLevel(logging.WARNING)
server = MCPServer("py-lago-customers")
_client: httpx.AsyncClient | None = None


async def _get(path: str) -> dict[str, Any]:
    global _client
    if _client is None:
        _client = httpx.AsyncClient(headers={"Authorization": "Bearer bench"})
    r = await _client.get(f"{STUB}{path}")
    r.raise_for_status()
    return r.json()


@server.tool(name="lago-list-all-customers", description="Lago List all customers")
async def list_customers() -> dict[str, Any]:
    return await _get("/customers")


@server.tool(name="lago-retrieve-customer", description="Lago Retrieve a customer")
async def retrieve_customer(external_id: str) -> dict[str, Any]:
    return await _get(f"/customers/{external_id}")


app = server.streamable_http_app(json_response=True, stateless_http=True)
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
