"""A bounded load loop through nginx while replicas restart (.ci/rolling/run).

GET workers read the caller's sessions (idempotent: nginx may retry them on the
other replica); one POST worker creates sessions and remembers each id answered
2xx. The loop runs until the --stop file appears (or --max-seconds pass), then
every remembered write is read back from each replica directly. Prints one
line per check and exits non-zero on any failure.
"""
import argparse
import http.client
import json
import os
import ssl
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--stop", required=True)
ap.add_argument("--ready", required=True)
ap.add_argument("--direct", action="append", default=[], help="a replica's http://host:port for the read-back")
ap.add_argument("--max-seconds", type=float, default=90)
ap.add_argument("--getters", type=int, default=4)
a = ap.parse_args()

ctx = ssl.create_default_context(cafile=a.ca)
headers = {"authorization": f"Bearer {a.key}", "content-type": "application/json"}
lock = threading.Lock()
stats = {"get_ok": 0, "get_fail": [], "post_ok": 0, "post_fail": []}
written = []
deadline = time.monotonic() + a.max_seconds


def running():
    return not os.path.exists(a.stop) and time.monotonic() < deadline


def conn():
    return http.client.HTTPSConnection("localhost", a.port, context=ctx, timeout=20)


def request(c, method, path, body=None):
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    return r.status, r.read()


def getter(n):
    c = conn()
    while running():
        try:
            status, body = request(c, "GET", "/api/sessions?limit=5")
        except Exception as e:  # a connection nginx closed: count it, reconnect
            with lock:
                stats["get_fail"].append(f"{type(e).__name__}: {e}")
            c.close()
            c = conn()
            continue
        with lock:
            if status == 200:
                stats["get_ok"] += 1
            else:
                stats["get_fail"].append(f"{status} {body[:120]!r}")
        time.sleep(0.005)


def poster():
    c = conn()
    i = 0
    while running():
        i += 1
        title = f"rolling-{i}"
        try:
            status, body = request(c, "POST", "/api/sessions", json.dumps({"title": title}))
        except Exception as e:
            with lock:
                stats["post_fail"].append(f"{title}: {type(e).__name__}: {e}")
            c.close()
            c = conn()
            continue
        with lock:
            if 200 <= status < 300:
                stats["post_ok"] += 1
                written.append(json.loads(body)["session"]["id"])
            else:
                stats["post_fail"].append(f"{title}: {status} {body[:120]!r}")
        time.sleep(0.01)


threads = [threading.Thread(target=getter, args=(n,)) for n in range(a.getters)]
threads.append(threading.Thread(target=poster))
for t in threads:
    t.start()
open(a.ready, "w").close()
for t in threads:
    t.join()

fails = 0


def check(ok, what, detail=""):
    global fails
    print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
    if not ok:
        fails += 1


check(time.monotonic() < deadline, "the restarts finished before the load loop's bound", f"{a.max_seconds} s")
print(f"load: {stats['get_ok']} GETs ok, {len(stats['get_fail'])} failed; "
      f"{stats['post_ok']} POSTs ok, {len(stats['post_fail'])} failed")
check(stats["get_ok"] > 200, "the GET loop ran", str(stats["get_ok"]))
check(not stats["get_fail"], "no GET failed while replicas restarted (nginx retried them)",
      "; ".join(stats["get_fail"][:5]))
check(stats["post_ok"] > 50, "the POST loop ran", str(stats["post_ok"]))
if stats["post_fail"]:
    print("note: POSTs nginx could not retry (never passed on twice): " + "; ".join(stats["post_fail"][:5]))

# Every write answered 2xx is stored: read each back from every replica.
missing = {}
for base in a.direct:
    host, port = base.removeprefix("http://").split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    gone = []
    for sid in written:
        c.request("GET", f"/api/sessions/{sid}", headers=headers)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            gone.append(f"{sid}: {r.status}")
    missing[base] = gone
for base, gone in missing.items():
    check(not gone, f"all {len(written)} writes answered 2xx are stored (read back from {base})", "; ".join(gone[:5]))
sys.exit(1 if fails else 0)
