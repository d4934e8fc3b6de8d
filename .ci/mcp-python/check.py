#!/usr/bin/env python3
"""The official MCP Python SDK (pinned in requirements.txt) against a running portal.

Usage: check.py BASE_URL AGENT_KEY APPROVER_KEY

AGENT_KEY runs tools (tools:read, tools:execute, tools:danger), APPROVER_KEY only approves
(tools:approve). Cases: initialize; tools/list (87 tools, each with a title and the
readOnlyHint/destructiveHint/idempotentHint annotations); a read tool (listCompartments:
content and structuredContent); a list without a compartment (listInstances: the demo
instances, the searched compartments named); a call needing approval (stopInstance:
isError with approvalId), approved over the REST API, repeated: success; and the errors:
unknown tool (-32602), unknown method (-32601), bad arguments (isError, VALIDATION_ERROR),
wrong key (401). One line per case, then "N passed, M failed"; exit status 1 on a failure.
"""

import asyncio
import json
import sys
import traceback

import httpx
import mcp.types as types
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError

EXPECTED_TOOLS = 87
results = []


def case(name, ok, detail=""):
    results.append(bool(ok))
    print(f"mcp-python {name}: {'PASS' if ok else 'FAIL'}{f' ({detail})' if detail else ''}", flush=True)


class UnknownMethod(types.Request[types.RequestParams | None, str]):
    """A request the server does not know (the SDK sends any Request model)."""

    method: str = "portal/noSuchMethod"
    params: types.RequestParams | None = None


def structured(r):
    return r.structuredContent if isinstance(r.structuredContent, dict) else {}


async def main(base, agent, approver):
    url = f"{base}/api/mcp"
    auth = {"Authorization": f"Bearer {agent}"}
    async with streamablehttp_client(url, headers=auth) as (read, write, _):
        async with ClientSession(read, write) as s:
            init = await s.initialize()
            case(
                "initialize",
                init.serverInfo.name == "oci-self-service-portal" and init.capabilities.tools is not None,
                f"{init.serverInfo.name} {init.serverInfo.version}, protocol {init.protocolVersion}",
            )

            listed = await s.list_tools()
            tools = {t.name: t for t in listed.tools}
            missing = [
                t.name
                for t in listed.tools
                if not t.title
                or t.annotations is None
                or None in (t.annotations.readOnlyHint, t.annotations.destructiveHint, t.annotations.idempotentHint)
                or not t.annotations.title
            ]
            hints_right = (
                "listInstances" in tools
                and "stopInstance" in tools
                and tools["listInstances"].annotations.readOnlyHint is True
                and tools["stopInstance"].annotations.readOnlyHint is False
                and tools["stopInstance"].annotations.destructiveHint is True
            )
            case(
                "tools/list",
                len(listed.tools) == EXPECTED_TOOLS and not missing and hints_right,
                f"{len(listed.tools)} tools, without title or hints: {missing[:5]}",
            )

            r = await s.call_tool("listCompartments", {})
            body = structured(r)
            items = body.get("result", {}).get("items", [])
            text = r.content[0].text if r.content and r.content[0].type == "text" else ""
            case(
                "call listCompartments",
                not r.isError and items and json.loads(text or "null") == body,
                f"{len(items)} compartments, text content mirrors structuredContent",
            )

            r = await s.call_tool("listInstances", {"lifecycleState": "RUNNING"})
            result = structured(r).get("result", {})
            instances = result.get("items", [])
            searched = result.get("searched", {}).get("compartments", 0)
            case(
                "call listInstances without a compartment",
                not r.isError and instances and searched > 1 and "Searched" in result.get("note", ""),
                f"{len(instances)} running instances in {searched} compartments",
            )

            target = {"instanceId": instances[0]["id"]} if instances else {"instanceId": "ocid1.instance.oc1..none"}
            r = await s.call_tool("stopInstance", target)
            body = structured(r)
            approval = body.get("approvalId")
            case(
                "call stopInstance needs approval",
                r.isError and body.get("code") == "APPROVAL_REQUIRED" and approval,
                f"approvalId {approval}",
            )

            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                res = await http.post(
                    "/api/tools/approve",
                    json={"approvalId": approval, "approved": True, "reason": "CI"},
                    headers={"Authorization": f"Bearer {approver}"},
                )
            case("approve over REST", res.status_code == 200, f"HTTP {res.status_code}")

            r = await s.call_tool("stopInstance", target)
            result = structured(r).get("result", {})
            case(
                "repeat stopInstance runs",
                not r.isError and result.get("id") == target["instanceId"],
                f"lifecycleState {result.get('lifecycleState')}",
            )

            try:
                r = await s.call_tool("noSuchTool", {})
                case("unknown tool is -32602", False, f"answered {r}")
            except McpError as e:
                case("unknown tool is -32602", e.error.code == -32602, f"{e.error.code} {e.error.message}")

            try:
                r = await s.send_request(UnknownMethod(), types.EmptyResult)
                case("unknown method is -32601", False, f"answered {r}")
            except McpError as e:
                case("unknown method is -32601", e.error.code == -32601, f"{e.error.code} {e.error.message}")

            r = await s.call_tool("listInstances", {"limit": "many"})
            body = structured(r)
            case(
                "bad arguments are VALIDATION_ERROR",
                r.isError and body.get("code") == "VALIDATION_ERROR" and "limit" in body.get("error", ""),
                body.get("error", ""),
            )

    # A wrong key: the SDK's transport is refused before any session.
    wrong = {"Authorization": "Bearer portal_not-a-real-key"}
    async with httpx.AsyncClient(timeout=30) as http:
        res = await http.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={**wrong, "Accept": "application/json, text/event-stream"},
        )
    status_ok = res.status_code == 401 and res.headers.get("www-authenticate", "").lower().startswith("bearer")
    sdk_refused = False
    try:
        async with streamablehttp_client(url, headers=wrong) as (read, write, _):
            async with ClientSession(read, write) as s:
                await asyncio.wait_for(s.initialize(), 20)
    except BaseException as e:  # the SDK raises through anyio task groups
        sdk_refused = "401" in "".join(traceback.format_exception(e))
    case("wrong key is 401", status_ok and sdk_refused, f"HTTP {res.status_code}, SDK refused: {sdk_refused}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    try:
        asyncio.run(main(*sys.argv[1:]))
    except Exception:
        traceback.print_exc()
        case("run", False, "the run stopped early")
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if results and all(results) else 1)
