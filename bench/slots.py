#!/usr/bin/env python3
"""Availability of the endpoint under slot-exhaustion attacks (loopback only,
bounded in connections and time).

For each attack, the attackers open their connections, and from 1 s later
(their own burst over) hold them while a probe scrapes /metrics on a new
connection every 2 s; each probe must succeed, within twice
the unloaded probe time (the median of probes before any attack). Prints a
markdown table.

  slots.py --port P [--seconds S] [--attacks idle16,slowloris300,slowreaders50,flood2000]
"""
import argparse
import resource
import socket
import statistics
import threading
import time


def probe(port, timeout=20.0):
    """One GET /metrics on a new connection: (ok, seconds, status)."""
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.settimeout(timeout)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        s.close()
        status = int(data[9:12]) if data.startswith(b"HTTP/1.") else 0
        return status == 200 and b"\npg_up 1\n" in data, time.monotonic() - t0, status
    except OSError:
        return False, time.monotonic() - t0, 0


class Attack:
    """Holds attacker connections; tick() does their periodic sends/reads."""

    def __init__(self, port, kind, count):
        self.port, self.kind, self.count = port, kind, count
        self.socks = []
        self.last = 0.0
        self.opened = 0

    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.kind == "slowreaders":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect(("127.0.0.1", self.port))
        s.setblocking(False)
        return s

    def start(self):
        for _ in range(self.count):
            try:
                s = self.connect()
            except OSError:
                continue
            self.opened += 1
            try:
                if self.kind == "idle":
                    s.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                elif self.kind == "slowloris":
                    s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                elif self.kind == "slowreaders":
                    s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            except OSError:
                pass
            self.socks.append(s)
        self.last = time.monotonic()

    def tick(self):
        now = time.monotonic()
        for s in list(self.socks):
            try:
                if self.kind == "idle":
                    # Read the answers; a new request every 50 s (keep-alive).
                    try:
                        s.recv(65536)
                    except BlockingIOError:
                        pass
                    if now - self.last >= 50:
                        s.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                elif self.kind == "slowloris" and now - self.last >= 5:
                    s.send(b"a")
                elif self.kind == "slowreaders" and now - self.last >= 1:
                    try:
                        s.recv(1)
                    except BlockingIOError:
                        pass
            except OSError:
                pass
        if (self.kind == "idle" and now - self.last >= 50) or (self.kind == "slowloris" and now - self.last >= 5) \
                or (self.kind == "slowreaders" and now - self.last >= 1):
            self.last = now

    def stop(self):
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--attacks", default="idle16,slowloris300,slowreaders50,flood2000")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))

    base = []
    for _ in range(7):  # spaced like the probes under attack (past a short cache_ttl)
        base.append(probe(a.port))
        time.sleep(1.1)
    if not all(ok for ok, _, _ in base):
        print("the unloaded endpoint does not answer /metrics with 200")
        return 1
    unloaded = statistics.median(t for _, t, _ in base)
    rows = []
    failed = False
    for spec in a.attacks.split(","):
        kind = spec.rstrip("0123456789")
        count = int(spec[len(kind):])
        att = Attack(a.port, kind, count)
        att.start()
        results = []
        stop = threading.Event()

        def attacker():
            while not stop.is_set():
                att.tick()
                time.sleep(0.2)

        th = threading.Thread(target=attacker)
        th.start()
        # The attackers' own burst of connections first (50 scrapes at once
        # against 16 slots gets quick 503s by design): probes start 1 s later.
        time.sleep(1)
        t_end = time.monotonic() + a.seconds
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            results.append(probe(a.port))
            time.sleep(max(0.0, 2.0 - (time.monotonic() - t0)))
        stop.set()
        th.join()
        att.stop()
        time.sleep(1)
        oks = sum(1 for ok, _, _ in results if ok)
        times = [t for _, t, _ in results]
        within = sum(1 for ok, t, _ in results if ok and t <= 2 * unloaded)
        failed |= oks < len(results) or within < len(results)
        rows.append((spec, att.opened, len(results), oks, within, statistics.median(times), max(times),
                     sorted(set(st for _, _, st in results))))
    print("Unloaded probe (median of 7): %.1f ms; limit 2x = %.1f ms\n" % (unloaded * 1e3, 2 * unloaded * 1e3))
    print("| attack | attacker connections | probes (every 2 s) | succeeded | within 2x unloaded | median ms | max ms | statuses |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for spec, opened, n, oks, within, med, mx, sts in rows:
        print("| %s | %d | %d | %d | %d | %.1f | %.1f | %s |" % (spec, opened, n, oks, within, med * 1e3, mx * 1e3,
                                                             ",".join(map(str, sts))))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
