"""The simulator as an HTTP server on 127.0.0.1: any boto3 or AWS CLI client reaches it with
AWS_ENDPOINT_URL_WELLARCHITECTED=http://127.0.0.1:PORT."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from simulator.core import Simulator


def _handler_class(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms stall

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if url.path.startswith("/_sim/"):
                status, data = sim.admin(self.command, url.path, body)
                headers = {"Content-Type": "application/json"}
                payload = json.dumps(data, default=str).encode()
            else:
                status, headers, payload = sim.handle(
                    self.command, url.path, url.query, dict(self.headers.items()), body
                )
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:  # quiet: the CLI prints one line
            return

    return Handler


def make_server(sim: Simulator, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), _handler_class(sim))
    server.daemon_threads = True
    return server


def serve(sim: Simulator, port: int = 0, host: str = "127.0.0.1") -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Start the server in a daemon thread; `server.server_address[1]` is the port, `server.shutdown()` stops it."""
    server = make_server(sim, port, host)
    thread = threading.Thread(target=server.serve_forever, name="wa-simulator", daemon=True)
    thread.start()
    return server, thread
