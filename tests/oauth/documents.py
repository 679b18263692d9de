"""A loopback HTTP server the tests use to publish client metadata documents (good, huge, slow, redirecting)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class DocumentServer:
    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, float, dict]] = {}
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, body, drip_seconds, headers = routes.get(self.path, (404, b"{}", 0.0, {}))
                if headers.get("X-Drip-Headers"):
                    # Status line and headers a byte at a time: every read gets a byte well within any read timeout.
                    for byte in f"HTTP/1.1 {status} OK\r\nX-Padding: {'x' * 200}\r\n".encode():
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(float(headers["X-Drip-Headers"]))
                    return
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                if drip_seconds:
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(drip_seconds)
                else:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, path: str, document=None, *, status=200, raw: bytes | None = None, drip=0.0, headers=None):
        body = raw if raw is not None else json.dumps(document).encode()
        self.routes[path] = (status, body, drip, headers or {})
        return self.base + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()
