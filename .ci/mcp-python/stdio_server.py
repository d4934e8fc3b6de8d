#!/usr/bin/env python3
"""An MCP server built with the official MCP Python SDK (FastMCP) spoken to over stdio: the portal
starts it itself from PORTAL_MCP_STDIO_FILE. A read tool (lookup) and a changing one (write_note)
that needs the portal's approval; `env_seen` says whether a variable reached it.

Usage: stdio_server.py (stdin/stdout are the MCP connection)
"""

import os

from mcp.server.fastmcp import FastMCP
from mcp.types import ToolAnnotations

server = FastMCP("portal-ci-stdio")
notes = []


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def lookup(word: str) -> str:
    """Looks a word up in the glossary."""
    return f"{word}: a stdio word"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def env_seen(name: str) -> str:
    """Says whether an environment variable is set in this process."""
    return "set" if name in os.environ else "unset"


@server.tool()
def write_note(text: str) -> str:
    """Writes a note."""
    notes.append(text)
    return f"stdio note {len(notes)} written: {text}"


if __name__ == "__main__":
    server.run()  # stdio
