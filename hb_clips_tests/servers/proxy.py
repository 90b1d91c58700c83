"""A small HTTP proxy on 127.0.0.1 in front of a test server, to make faults
happen on purpose: answer some requests with an error instead of forwarding
them, reset the connection in the middle of a request body, hold a request
longer than the client waits, or change a request body on its way. Every
request is recorded. An upstream that cannot be reached (a stopped server) is
answered 502, as a load balancer would.

Only loopback traffic: it forwards to the one upstream URL it was given.
"""
from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade", "trailer"}


@dataclass
class Fault:
    """For the first ``times`` requests that ``match`` (and whose body holds
    ``body_contains``, when given), instead of forwarding:

    - ``kind="status"``: answer ``status``;
    - ``kind="reset"``: read ``after_bytes`` of the request body (fewer if the
      body is shorter), then close the socket with SO_LINGER 0, so that the
      client gets a TCP RST in the middle of its upload; nothing is forwarded;
    - ``kind="delay"``: read the whole request, hold it ``delay_s`` seconds
      (longer than the client's timeout), then forward it anyway
      (``then="forward"``: it lands upstream after the client gave up, as a
      slow request does) or close the connection without an answer
      (``then="drop"``).
    """

    match: Callable[[str, str], bool]  # (method, path with query) -> bool
    status: int = 503
    times: int = 1
    hits: int = 0
    kind: str = "status"  # "status" | "reset" | "delay"
    after_bytes: int = 0  # reset: body bytes read before the RST
    delay_s: float = 0.0  # delay: how long the request is held
    then: str = "forward"  # delay: "forward" or "drop"
    body_contains: bytes | None = None  # the body must hold these bytes (the whole body is read first)

    def __post_init__(self):
        if self.kind not in ("status", "reset", "delay") or self.then not in ("forward", "drop"):
            raise ValueError(f"unknown fault kind {self.kind!r} / then {self.then!r}")
        if self.kind == "reset" and self.body_contains is not None:
            raise ValueError("a reset fault decides before the body is read: no body_contains")


@dataclass
class Seen:
    """One request. ``status`` is the answer, or ``RESET`` / ``DROPPED`` (no answer)."""

    method: str
    path: str
    status: int
    body_bytes: int
    fault: str = ""  # the kind of fault injected, "" when forwarded untouched


RESET = -1  # Seen.status of a request whose connection was reset mid-body
DROPPED = -2  # Seen.status of a held request closed without an answer


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

            def _pick(self, method: str, path: str, body: bytes | None) -> Fault | None:
                with proxy._lock:
                    fault = next((f for f in proxy.faults if f.hits < f.times
                                  and (f.body_contains is None) == (body is None)
                                  and (body is None or f.body_contains in body) and f.match(method, path)), None)
                    if fault is not None:
                        fault.hits += 1
                return fault

            def _reset(self, method: str, path: str, length: int, fault: Fault) -> None:
                got = 0
                while got < min(fault.after_bytes, length):
                    chunk = self.rfile.read1(min(fault.after_bytes, length) - got)
                    if not chunk:
                        break
                    got += len(chunk)
                sock = self.connection
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()  # with linger 0: RST, whatever the client is still sending
                self.close_connection = True
                proxy._record(method, path, RESET, got, "reset")

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                method, path = self.command, self.path
                fault = self._pick(method, path, None)
                if fault is not None and fault.kind == "reset":
                    return self._reset(method, path, length, fault)
                body = self.rfile.read(length) if length else b""
                if fault is None:
                    fault = self._pick(method, path, body)
                if fault is not None and fault.kind == "status":
                    payload = b'{"error":{"code":%d,"message":"injected by test proxy"}}' % fault.status
                    self._answer(method, fault.status, [("Content-Type", "application/json")], payload)
                    proxy._record(method, path, fault.status, len(body), "status")
                    return
                if fault is not None and fault.kind == "delay":
                    time.sleep(fault.delay_s)
                    if fault.then == "drop":
                        self.close_connection = True
                        proxy._record(method, path, DROPPED, len(body), "delay")
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
                except OSError as exc:  # upstream down (stopped server): a gateway's answer
                    payload = b'{"error":{"code":502,"message":"upstream unreachable: %s"}}' % type(exc).__name__.encode()
                    self._answer(method, 502, [("Content-Type", "application/json")], payload)
                    proxy._record(method, path, 502, len(body), "delay" if fault is not None else "")
                    return
                finally:
                    conn.close()
                out = []
                for k, v in resp.getheaders():
                    if k.lower() in _HOP or k.lower() == "content-length":
                        continue
                    if k.lower() == "location":  # keep resumable-upload sessions going through the proxy
                        v = v.replace(proxy.upstream, proxy.url)
                    out.append((k, v))
                try:
                    self._answer(method, resp.status, out, data)
                except OSError:  # the client gave up (timed out) while the request was held
                    self.close_connection = True
                proxy._record(method, path, resp.status, len(body), "delay" if fault is not None else "")

            def _answer(self, method: str, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fault-proxy", daemon=True).start()
        return self

    def _record(self, method: str, path: str, status: int, body_bytes: int, fault: str = "") -> None:
        with self._lock:
            self.seen.append(Seen(method, path, status, body_bytes, fault))

    def wait_seen(self, condition: Callable[[list[Seen]], bool], timeout: float = 10.0) -> list[Seen]:
        """Wait until ``condition(seen)`` holds (a held request recorded, say); the records then."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                seen = list(self.seen)
            if condition(seen):
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(f"proxy: condition not met within {timeout} s; seen {seen}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
