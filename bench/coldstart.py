#!/usr/bin/env python3
"""Cold start to healthy: spawn `portal serve` on an existing database and poll
GET /healthz over a raw socket every 0.5 ms (no process spawned per poll, unlike
curl), until the first 200. Prints the median of N starts in milliseconds.

usage: coldstart.py PORTAL_BIN PORT RUNS   (environment passed through)
"""
import os, socket, subprocess, sys, time

portal, port, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
REQ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def healthy():
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(REQ)
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


times = []
for _ in range(runs):
    t0 = time.perf_counter()
    p = subprocess.Popen([portal, "serve"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not healthy():
        if p.poll() is not None:
            sys.exit(f"portal exited with {p.returncode} before it was healthy")
        if time.perf_counter() - t0 > 10:
            p.kill()
            sys.exit("portal was not healthy within 10 s")
        time.sleep(0.0005)
    times.append((time.perf_counter() - t0) * 1000)
    p.terminate()
    p.wait()
times.sort()
print(f"{times[len(times) // 2]:.1f}")
