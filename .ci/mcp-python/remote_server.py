#!/usr/bin/env python3
"""A remote MCP server built with the official MCP Python SDK (FastMCP, Streamable HTTP), for
the portal's MCP client: a read tool (lookup) and a changing one (write_note) that needs the
portal's approval. It refuses requests without the bearer the portal is given.

Usage: remote_server.py PORT BEARER
"""

import sys

from mcp.server.fastmcp import FastMCP
from mcp.types import ToolAnnotations
from starlette.responses import JSONResponse

PORT, BEARER = int(sys.argv[1]), sys.argv[2]
server = FastMCP("portal-ci-remote", host="127.0.0.1", port=PORT, stateless_http=True, json_response=True)
notes = []


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def lookup(word: str) -> str:
    """Looks a word up in the glossary."""
    return f"{word}: a word"


@server.tool()
def write_note(text: str) -> str:
    """Writes a note."""
    notes.append(text)
    return f"note {len(notes)} written: {text}"


app = server.streamable_http_app()


async def bearer_only(scope, receive, send):
    if scope["type"] == "http":
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        if auth != f"Bearer {BEARER}":
            await JSONResponse({"error": "bearer required"}, status_code=401)(scope, receive, send)
            return
    await app(scope, receive, send)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(bearer_only, host="127.0.0.1", port=PORT, log_level="warning")
