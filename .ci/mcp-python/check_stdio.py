#!/usr/bin/env python3
"""The portal as an MCP client of a stdio server built with the official MCP Python SDK
(stdio_server.py), which the portal started from PORTAL_MCP_STDIO_FILE, driven over REST.

Usage: check_stdio.py BASE_URL ADMIN_KEY APPROVER_KEY

Cases: the server is listed as stdio, read-only, healthy, its tools as pystdio__<tool> with the
risks of the file (lookup read, write_note confirm); the catalogue has them; a read tool runs at
once; the portal's own secrets do not reach the child; a confirm tool asks for approval, is
approved over REST and runs; the API refuses to create or change a stdio server; the calls move
tool_executions_total on /api/metrics. One line per case, then "N passed, M failed".
"""

import sys
import time

import httpx

base, admin_key, approver_key = sys.argv[1:4]
results = []


def case(name, ok, detail=""):
    results.append(bool(ok))
    print(f"mcp-stdio {name}: {'PASS' if ok else 'FAIL'}{f' ({detail})' if detail else ''}", flush=True)


admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin_key}"}, timeout=30)
approver = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {approver_key}"}, timeout=30)
one = "/api/admin/mcp-servers/stdio-pystdio"

s = {}
for _ in range(100):
    r = admin.get(one)
    s = r.json() if r.status_code == 200 else {}
    if s.get("health") in ("ok", "failed"):
        break
    time.sleep(0.1)
tools = {t["catalogueName"]: t["risk"] for t in s.get("tools", [])}
case("listed as stdio, read-only and healthy",
     s.get("transport") == "stdio" and s.get("readOnly") is True and s.get("health") == "ok", str(s)[:300])
case("its tools carry the file's risks",
     tools == {"pystdio__lookup": "read", "pystdio__env_seen": "read", "pystdio__write_note": "confirm"},
     str(tools))
names = {t["name"] for t in admin.get("/api/v1/tools").json().get("tools", [])}
case("the catalogue has them", {"pystdio__lookup", "pystdio__write_note"} <= names)

r = admin.post("/api/tools/execute", json={"toolName": "pystdio__lookup", "args": {"word": "vcn"}})
case("a read tool runs at once", r.status_code == 200 and "vcn: a stdio word" in r.text, r.text[:300])
r = admin.post("/api/tools/execute", json={"toolName": "pystdio__env_seen", "args": {"name": "PORTAL_SECRET_KEY"}})
case("the portal's secret key is not passed on", r.status_code == 200 and "unset" in r.text, r.text[:300])
r = admin.post("/api/tools/execute", json={"toolName": "pystdio__env_seen", "args": {"name": "PYSTDIO_GIVEN"}})
case("the file's env is passed on", r.status_code == 200 and '"set"' in r.text, r.text[:300])

req = {"toolCallId": "pystdio-1", "toolName": "pystdio__write_note", "args": {"text": "hello"}}
r = admin.post("/api/tools/execute", json=req)
body = r.json()
case("a confirm tool asks for approval", r.status_code == 403 and body.get("code") == "APPROVAL_REQUIRED", r.text[:200])
r = approver.post("/api/tools/approve", json={"approvalId": body.get("approvalId"), "approved": True, "reason": "ci"})
case("approved over REST", r.status_code == 200, r.text[:200])
r = admin.post("/api/tools/execute", json={**req, "approvalId": body.get("approvalId")})
case("the approved request runs", r.status_code == 200 and "stdio note 1 written: hello" in r.text, r.text[:300])

r = admin.post("/api/admin/mcp-servers", json={"name": "sh", "transport": "stdio"})
case("the API refuses a stdio server", r.status_code == 400, r.text[:200])
r = admin.patch(one, json={"enabled": False})
case("the API refuses to change one", r.status_code == 409, r.text[:200])

metrics = httpx.get(f"{base}/api/metrics", timeout=30).text
case("calls move the per-tool counter",
     'tool_executions_total{status="success",tool="pystdio__lookup"} 1' in metrics
     and 'tool_executions_total{status="success",tool="pystdio__write_note"} 1' in metrics)

passed = sum(results)
print(f"mcp-stdio: {passed} passed, {len(results) - passed} failed")
sys.exit(0 if passed == len(results) else 1)
