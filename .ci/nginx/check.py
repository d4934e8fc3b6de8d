"""Drives the portal through nginx (see run): HTTP/2 and HSTS, SSE streams that
arrive part by part, the body limit, secure cookies, and the client address the
portal logs. Prints one line per check and 'N passed, N failed'."""
import argparse
import json
import os
import subprocess
import threading
import time
import urllib.parse
import uuid

ap = argparse.ArgumentParser()
for a in ("base", "plain", "direct", "ca", "key", "log", "email", "password"):
    ap.add_argument("--" + a, required=True)
A = ap.parse_args()
host_port = urllib.parse.urlparse(A.base).port
plain_port = urllib.parse.urlparse(A.plain).port
RESOLVE = ["--resolve", f"localhost:{host_port}:127.0.0.1", "--resolve", f"localhost:{plain_port}:127.0.0.1"]
passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}: {detail}")


def curl(*args, data=None):
    cmd = ["curl", "-sS", "--cacert", A.ca, *RESOLVE, *args]
    r = subprocess.run(cmd, input=data, capture_output=True, timeout=60)
    return r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def auth():
    return ["-H", f"Authorization: Bearer {A.key}"]


def api(method, path, body=None):
    args = ["-X", method, *auth(), "-H", "content-type: application/json", *(["--data-binary", "@-"] if body is not None else []), A.base + path]
    out, err = curl(*args, "-w", "\n%{http_code}", data=None if body is None else json.dumps(body).encode())
    text, _, code = out.rpartition("\n")
    try:
        return int(code), json.loads(text) if text.strip() else None
    except ValueError:
        return int(code or 0), text


class Stream:
    """A curl -N stream over HTTP/2: each SSE data line with its arrival time."""

    def __init__(self, *args, data=None):
        self.lines, self.done = [], threading.Event()
        self.p = subprocess.Popen(
            ["curl", "-sSN", "--http2", "--cacert", A.ca, *RESOLVE, "-w", "\nHTTPVERSION %{http_version}\n", *args],
            stdin=subprocess.PIPE if data else None, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        if data:
            self.p.stdin.write(data)
            self.p.stdin.close()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        # os.read returns what the pipe holds now: no read-ahead that would batch arrivals.
        pending = b""
        while True:
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                break
            now = time.monotonic()
            pending += chunk
            *complete, pending = pending.split(b"\n")
            self.lines.extend((now, l.decode(errors="replace")) for l in complete)
        if pending:
            self.lines.append((time.monotonic(), pending.decode(errors="replace")))
        self.done.set()

    def wait(self, pred, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(pred(l) for _, l in self.lines):
                return True
            time.sleep(0.02)
        return False

    def close(self):
        if self.p.poll() is None:
            self.p.kill()


# 1. TLS with HTTP/2, HSTS, and the plain port only redirecting.
out, err = curl("--http2", "-D", "-", "-o", "/dev/null", A.base + "/healthz")
status = out.splitlines()[0] if out else err
check(status.startswith("HTTP/2 200"), "TLS with HTTP/2 (verified against the test's CA)", status)
check("strict-transport-security: max-age=63072000; includeSubDomains" in out.lower().replace("includesubdomains", "includeSubDomains"),
      "HSTS on every answer", out)
check(out.lower().count("strict-transport-security") == 1, "exactly one HSTS header", out)
out, _ = curl("-D", "-", "-o", "/dev/null", A.plain + "/api/me")
check(out.startswith("HTTP/1.1 308") and f"location: https://localhost" in out.lower(), "plain HTTP redirects to HTTPS", out[:200])

# 2. A chat turn streams token by token.
s = Stream("-X", "POST", *auth(), "-H", "content-type: application/json", "--data-binary", "@-", A.base + "/api/chat",
           data=json.dumps({"message": "say something slowly"}).encode())
s.done.wait(30)
deltas = [(t, l) for t, l in s.lines if l.startswith("data:") and '"text-delta"' in l]
version = next((l.split()[1] for _, l in s.lines if l.startswith("HTTPVERSION")), "?")
check(version == "2", "the chat stream is HTTP/2", version)
if len(deltas) >= 8:
    span = deltas[-1][0] - deltas[0][0]
    gaps = [b[0] - a[0] for a, b in zip(deltas, deltas[1:])]
    separate = sum(1 for g in gaps if g > 0.05)
    check(span > 0.8 and separate >= len(gaps) * 2 // 3,
          f"chat tokens arrive one by one ({len(deltas)} deltas over {span:.2f} s, {separate} of {len(gaps)} gaps > 50 ms)",
          f"gaps {[round(g, 3) for g in gaps]}")
else:
    check(False, "chat tokens arrive one by one", f"{len(deltas)} text deltas: {s.lines[-5:]}")
text = "".join(json.loads(l[5:])["delta"] for _, l in deltas)
check("through the proxy on its own." in text, "the whole answer came through", text)

# 3. A workflow run's event stream: the events before the approval arrive before it is
# given, the rest after it (directly from the portal, then through nginx).
def run_stream(base, via):
    wf = {"name": f"stream {via} {uuid.uuid4().hex[:6]}", "nodes": [
            {"id": "in", "type": "input", "data": {}},
            {"id": "ok", "type": "approval", "data": {"message": "Go on?", "approvers": {"role": "admin"}}},
            {"id": "out", "type": "output", "data": {"mapping": {"done": "true"}}}],
          "edges": [{"id": "e1", "source": "in", "target": "ok"}, {"id": "e2", "source": "ok", "target": "out"}]}
    code, body = api("POST", "/api/v1/workflows", wf)
    check(code == 201, f"{via}: a JSON write (import a workflow)", f"{code} {body}")
    wid = body["workflow"]["id"]
    api("POST", f"/api/v1/workflows/{wid}/publish", {})
    code, body = api("POST", f"/api/v1/workflows/{wid}/run", {"input": {}})
    rid = body["run"]["id"]
    s = Stream(*auth(), base + f"/api/v1/workflows/runs/{rid}/stream")
    suspended = s.wait(lambda l: l == "event: run.suspended", 20)
    before = [l[7:] for _, l in s.lines if l.startswith("event:")]
    time.sleep(1.0)  # the stream stays open, holding nothing back, while the run waits
    t_decide = time.monotonic()
    code, body = api("POST", f"/api/v1/workflows/runs/{rid}/steps/ok/approve", {"reason": "through nginx"})
    check(code == 200, f"approve the step ({via})", f"{code} {body}")
    finished = s.wait(lambda l: l == "event: run.completed", 20)
    s.close()
    after = [l[7:] for t, l in s.lines if l.startswith("event:") and t >= t_decide]
    check(suspended and len(before) >= 2, f"{via}: run events arrive while the run waits ({before})", s.lines[-6:])
    check(finished and after, f"{via}: the rest arrive after the decision ({after})",
          f"{s.lines[-4:]}; the run now: {api('GET', f'/api/v1/workflows/runs/{rid}')[1]['run']['status']}")


run_stream(A.direct, "directly")
run_stream(A.base, "through nginx")

# 4. The body limit: nginx refuses what the portal would refuse.
big = b'{"message":"' + b"x" * (1024 * 1024 + 4096) + b'"}'
out, _ = curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", *auth(), "-H", "content-type: application/json",
              "--data-binary", "@-", A.base + "/api/v1/workflows/validate", data=big)
check(out == "413", "a body over 1 MiB is refused with 413 at the proxy", out)

# 5. Secure cookies: a browser sign-in through the proxy.
jar = f"/tmp/nginx-cookies-{uuid.uuid4().hex}"
origin = A.base
out, _ = curl("-D", "-", "-o", "/dev/null", "-c", jar, "-X", "POST", "-H", f"Origin: {origin}", "-H", "content-type: application/json",
              "--data-binary", json.dumps({"email": A.email, "password": A.password}), A.base + "/api/auth/sign-in/email")
cookies = [l for l in out.splitlines() if l.lower().startswith("set-cookie:")]
check(out.startswith("HTTP/2 200") and cookies and all("secure" in c.lower() and "__host-" in c.lower() for c in cookies),
      "sign-in sets Secure __Host- cookies over HTTPS", out[:400])
out, _ = curl("-b", jar, "-w", "\n%{http_code}", A.base + "/api/auth/get-session")
check(out.endswith("200") and A.email in out, "the cookie session works through the proxy", out[-300:])

# 6. The client's address, as the portal logs it: the client connects from 127.0.0.2
# and claims to be 6.6.6.6; nginx (127.0.0.1, trusted) appends the real peer.
probe = f"/api/nginx-probe-{uuid.uuid4().hex[:8]}"
curl("--interface", "127.0.0.2", "-o", "/dev/null", "-H", "X-Forwarded-For: 6.6.6.6", A.base + probe)
direct = probe + "-direct"
curl("--interface", "127.0.0.2", "-o", "/dev/null", "-H", "X-Forwarded-For: 6.6.6.6",
     A.direct.replace("localhost", "127.0.0.1") + direct)
time.sleep(0.3)
ips = {}
for line in open(A.log):
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    f = rec.get("fields", rec)
    if f.get("message") == "request" and f.get("path") in (probe, direct):
        ips[f["path"]] = f.get("ip")
check(ips.get(probe) == "127.0.0.2", "through nginx the portal logs the client's address, not the spoofed one", ips)
check(ips.get(direct) == "127.0.0.2", "a client reaching the portal directly cannot spoof X-Forwarded-For", ips)

print(f"{passed} passed, {failed} failed")
raise SystemExit(1 if failed else 0)
