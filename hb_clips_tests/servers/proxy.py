"""A small HTTP proxy on 127.0.0.1 in front of a test server, to make faults
happen on purpose: answer some requests with an error instead of forwarding
them, or change a request body on its way. Every request is recorded.

Only loopback traffic: it forwards to the one upstream URL it was given.
"""
from __future__ import annotations

import http.client
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade", "trailer"}


@dataclass
class Fault:
    """Answer ``status`` instead of forwarding, for the first ``times`` requests that ``match``."""

    match: Callable[[str, str], bool]  # (method, path with query) -> bool
    status: int = 503
    times: int = 1
    hits: int = 0


@dataclass
class Seen:
    method: str
    path: str
    status: int
    body_bytes: int


@dataclass
class FaultProxy:
    upstream: str  # http://127.0.0.1:PORT
    faults: list[Fault] = field(default_factory=list)
    rewrite_body: Callable[[str, str, bytes], bytes] | None = None
    before_forward: Callable[[str, str], None] | None = None  # runs before a request is forwarded
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FaultProxy":
        proxy = self
        up = urllib.parse.urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                method, path = self.command, self.path
                with proxy._lock:
                    fault = next((f for f in proxy.faults if f.hits < f.times and f.match(method, path)), None)
                    if fault is not None:
                        fault.hits += 1
                if fault is not None:
                    payload = b'{"error":{"code":%d,"message":"injected by test proxy"}}' % fault.status
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    proxy._record(method, path, fault.status, len(body))
                    return
                if proxy.before_forward is not None:
                    proxy.before_forward(method, path)
                if proxy.rewrite_body is not None and body:
                    body = proxy.rewrite_body(method, path, body)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP and k.lower() != "host"}
                headers["Host"] = up.netloc
                if body or "Content-Length" in self.headers:
                    headers["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
                try:
                    conn.request(method, path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() in _HOP or k.lower() == "content-length":
                        continue
                    if k.lower() == "location":  # keep resumable-upload sessions going through the proxy
                        v = v.replace(proxy.upstream, proxy.url)
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(data)
                proxy._record(method, path, resp.status, len(body))

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fault-proxy", daemon=True).start()
        return self

    def _record(self, method: str, path: str, status: int, body_bytes: int) -> None:
        with self._lock:
            self.seen.append(Seen(method, path, status, body_bytes))

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
