#!/usr/bin/env python3
"""The stand-in for Veza's backend API: what the runbook's toggles do, and nothing else.

It reads MAINTENANCE_MODE and RATELIMIT_FAIL_CLOSED from its environment at start, as the real
backend does (internal/middleware/maintenance.go), and answers:
  GET /health           200, with the toggles it started with (JSON): liveness, never in maintenance
  GET /metrics          Prometheus text: requests by method, route and status, and the two toggles
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
        with counts_lock:
            key = (self.command, route, str(status))
            counts[key] = counts.get(key, 0) + 1

    def handle_any(self):
        url = urlparse(self.path)
        delay = parse_qs(url.query).get("delay_ms", ["0"])[0]
        if delay.isdigit():
            time.sleep(min(int(delay), 60000) / 1000)
        if url.path == "/health":
            self.answer(200, json.dumps({"maintenance": MAINTENANCE, "ratelimitFailClosed": FAIL_CLOSED, "pid": os.getpid(), "started": STARTED}), "application/json")
        elif url.path == "/metrics":
            with counts_lock:
                lines = [f'http_requests_total{{method="{m}",route="{r}",status="{s}"}} {n}' for (m, r, s), n in sorted(counts.items())]
            lines += [f"veza_maintenance_mode {int(MAINTENANCE)}", f"veza_ratelimit_fail_closed {int(FAIL_CLOSED)}", ""]
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


def main():
    server = Server((os.environ.get("API_BIND", "127.0.0.1"), int(os.environ.get("API_PORT", "8080"))), Handler)

    def stop(*_):
        # shutdown() waits for serve_forever to return: from another thread.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"standin: listening on {server.server_address[0]}:{server.server_address[1]}, MAINTENANCE_MODE={str(MAINTENANCE).lower()}, RATELIMIT_FAIL_CLOSED={str(FAIL_CLOSED).lower()}", flush=True)
    server.serve_forever()
    # The listening socket closes first, then every handler thread is joined.
    server.server_close()
    print("standin: stopped after the requests in flight", flush=True)


if __name__ == "__main__":
    main()
