#!/usr/bin/env python3
"""The stand-in for Veza's backend API: what the runbook's toggles do, and nothing else.

It reads MAINTENANCE_MODE and RATELIMIT_FAIL_CLOSED from its environment at start, as the real
backend does (internal/middleware/maintenance.go), and answers:
  GET /health           200, with the toggles it started with (JSON): liveness, never in maintenance
  GET /metrics          Prometheus text: requests by method, route and status, their durations
                        (a histogram by method and route), and the two toggles
  anything else         503 "maintenance" while MAINTENANCE_MODE is true, else 200
  ?delay_ms=N           on any request: answer after N ms (at most 60000), an in-flight request
On SIGTERM it stops accepting connections, lets every request in flight finish, and exits 0:
the grace `docker stop --time` or the provider's destroyGraceSeconds gives it.
"""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def toggle(name):
    value = os.environ.get(name, "false").strip().lower()
    if value not in ("true", "false"):
        sys.exit(f"standin: {name}={value!r}: allowed true or false")
    return value == "true"


MAINTENANCE = toggle("MAINTENANCE_MODE")
FAIL_CLOSED = toggle("RATELIMIT_FAIL_CLOSED")
STARTED = time.time()
counts = {}
# client_golang's default buckets: the latency SLO's threshold (0.5 s) is one of them.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
durations = {}
counts_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Maintenance-Mode", str(MAINTENANCE).lower())
        self.end_headers()
        self.wfile.write(data)
        route = urlparse(self.path).path
        elapsed = time.monotonic() - self.started
        with counts_lock:
            key = (self.command, route, str(status))
            counts[key] = counts.get(key, 0) + 1
            histogram = durations.setdefault((self.command, route), {"buckets": [0] * len(BUCKETS), "sum": 0.0, "count": 0})
            for i, bound in enumerate(BUCKETS):
                if elapsed <= bound:
                    histogram["buckets"][i] += 1
            histogram["sum"] += elapsed
            histogram["count"] += 1

    def handle_any(self):
        self.started = time.monotonic()
        url = urlparse(self.path)
        delay = parse_qs(url.query).get("delay_ms", ["0"])[0]
        if delay.isdigit():
            time.sleep(min(int(delay), 60000) / 1000)
        if url.path == "/health":
            self.answer(200, json.dumps({"maintenance": MAINTENANCE, "ratelimitFailClosed": FAIL_CLOSED, "pid": os.getpid(), "started": STARTED}), "application/json")
        elif url.path == "/metrics":
            with counts_lock:
                lines = ["# HELP http_requests_total Requests answered, by method, route and status.", "# TYPE http_requests_total counter"]
                lines += [f'http_requests_total{{method="{m}",route="{r}",status="{s}"}} {n}' for (m, r, s), n in sorted(counts.items())]
                lines += ["# HELP http_request_duration_seconds Time to answer a request, by method and route.", "# TYPE http_request_duration_seconds histogram"]
                for (m, r), h in sorted(durations.items()):
                    labels = f'method="{m}",route="{r}"'
                    lines += [f'http_request_duration_seconds_bucket{{{labels},le="{bound}"}} {n}' for bound, n in zip(BUCKETS, h["buckets"])]
                    lines += [f'http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {h["count"]}', f'http_request_duration_seconds_sum{{{labels}}} {h["sum"]}', f'http_request_duration_seconds_count{{{labels}}} {h["count"]}']
            lines += ["# HELP veza_maintenance_mode MAINTENANCE_MODE at start (1: true).", "# TYPE veza_maintenance_mode gauge", f"veza_maintenance_mode {int(MAINTENANCE)}"]
            lines += ["# HELP veza_ratelimit_fail_closed RATELIMIT_FAIL_CLOSED at start (1: true).", "# TYPE veza_ratelimit_fail_closed gauge", f"veza_ratelimit_fail_closed {int(FAIL_CLOSED)}", ""]
            self.answer(200, "\n".join(lines), "text/plain; version=0.0.4")
        elif MAINTENANCE:
            self.answer(503, "maintenance")
        else:
            self.answer(200, "ok")

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    # Requests in flight are joined at shutdown (server_close), not abandoned.
    daemon_threads = False
    block_on_close = True


def drain_accept_queue(server):
    """Serves the connections the kernel completed but the loop did not accept yet.

    They are requests in flight too: closing the listening socket over them resets them
    (ECONNRESET after the request was sent), where a client must see either an answer or a refusal.
    """
    server.socket.setblocking(False)
    while True:
        try:
            connection, address = server.socket.accept()
        except BlockingIOError:
            return
        connection.setblocking(True)
        server.process_request(connection, address)


def main():
    server = Server((os.environ.get("API_BIND", "127.0.0.1"), int(os.environ.get("API_PORT", "8080"))), Handler)

    def stop(*_):
        # shutdown() waits for serve_forever to return: from another thread.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"standin: listening on {server.server_address[0]}:{server.server_address[1]}, MAINTENANCE_MODE={str(MAINTENANCE).lower()}, RATELIMIT_FAIL_CLOSED={str(FAIL_CLOSED).lower()}", flush=True)
    server.serve_forever()
    # The accept queue is served, the listening socket closes, then every handler thread is joined.
    drain_accept_queue(server)
    server.server_close()
    print("standin: stopped after the requests in flight", flush=True)


if __name__ == "__main__":
    main()
