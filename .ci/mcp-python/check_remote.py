#!/usr/bin/env python3
"""The portal as an MCP client of a server built with the official MCP Python SDK
(remote_server.py), driven over the portal's REST API.

Usage: check_remote.py BASE_URL ADMIN_KEY APPROVER_KEY REMOTE_URL BEARER

ADMIN_KEY holds admin:all, tools:read and tools:execute; APPROVER_KEY tools:approve. Cases: a wrong
bearer connects as failed; the right one lists both tools as pyremote__<tool>, risk confirm; the
catalogue has them; a confirm tool asks for approval, is approved over REST and runs with the same
request; a tool set to read runs at once. One line per case, then "N passed, M failed".
"""

import sys

import httpx

base, admin_key, approver_key, remote_url, bearer = sys.argv[1:6]
results = []


def case(name, ok, detail=""):
    results.append(bool(ok))
    print(f"mcp-remote {name}: {'PASS' if ok else 'FAIL'}{f' ({detail})' if detail else ''}", flush=True)


admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin_key}"}, timeout=30)
approver = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {approver_key}"}, timeout=30)

r = admin.post("/api/admin/mcp-servers", json={"name": "pywrong", "url": remote_url, "bearer": "wrong"})
case("wrong bearer is a failed server", r.status_code == 201 and r.json().get("health") == "failed", r.text[:200])

r = admin.post("/api/admin/mcp-servers", json={"name": "pyremote", "url": remote_url, "bearer": bearer})
s = r.json() if r.status_code == 201 else {}
tools = {t["catalogueName"]: t["risk"] for t in s.get("tools", [])}
case("connect lists the tools, risk confirm",
     s.get("health") == "ok" and tools == {"pyremote__lookup": "confirm", "pyremote__write_note": "confirm"},
     r.text[:300])
case("credentials are not returned", s.get("hasCredentials") is True and bearer not in r.text)

cat = admin.get("/api/v1/tools").json()
names = {t["name"] for t in cat.get("tools", [])}
case("the catalogue has them", {"pyremote__lookup", "pyremote__write_note"} <= names and "listInstances" in names)

req = {"toolCallId": "py-1", "toolName": "pyremote__write_note", "args": {"text": "hello"}}
r = admin.post("/api/tools/execute", json=req)
body = r.json()
case("a confirm tool asks for approval", r.status_code == 403 and body.get("code") == "APPROVAL_REQUIRED", r.text[:200])
approval = body.get("approvalId")
r = approver.post("/api/tools/approve", json={"approvalId": approval, "approved": True, "reason": "ci"})
case("approved over REST", r.status_code == 200, r.text[:200])
r = admin.post("/api/tools/execute", json={**req, "approvalId": approval})
case("the approved request runs", r.status_code == 200 and "note 1 written: hello" in r.text, r.text[:300])

sid = s.get("id")
r = admin.put(f"/api/admin/mcp-servers/{sid}/tools/lookup/risk", json={"risk": "read"})
case("risk set to read", r.status_code == 200, r.text[:200])
r = admin.post("/api/tools/execute", json={"toolName": "pyremote__lookup", "args": {"word": "vcn"}})
case("a read tool runs at once", r.status_code == 200 and "vcn: a word" in r.text, r.text[:300])

passed = sum(results)
print(f"mcp-remote: {passed} passed, {len(results) - passed} failed")
sys.exit(0 if passed == len(results) else 1)
