"""Calls the portal through the two generated Python clients: a query parameter
must reach the server (a client that drops it gets the default page size)."""
import sys

base, key = sys.argv[1], sys.argv[2]
failed = 0


def check(name, ok, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    failed += 0 if ok else 1


import portal_og  # openapi-generator, python

cfg = portal_og.Configuration(host=base, access_token=key)
with portal_og.ApiClient(cfg) as c:
    page = portal_og.SessionsApi(c).list_sessions(limit=1, offset=0)
    check("openapi-generator client: list_sessions(limit=1)", page.limit == 1, page)
    health = portal_og.HealthApi(c).get_health()
    check("openapi-generator client: get_health", health is not None, health)

from oci_self_service_portal_api_client import AuthenticatedClient  # openapi-python-client
from oci_self_service_portal_api_client.api.sessions import list_sessions

client = AuthenticatedClient(base_url=base, token=key)
page = list_sessions.sync(client=client, limit=1)
check("openapi-python-client: list_sessions(limit=1)", getattr(page, "limit", None) == 1, page)
sys.exit(1 if failed else 0)
