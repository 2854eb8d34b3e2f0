"""A fake AITRIOS Console + token server on 127.0.0.1 for the Console client tests.

Implements, from the API fact sheet (``aitrios_console_api.md``):

* ``POST /oauth2/token``: client-credentials form body → ``{"access_token": <JWT-like>}``
  whose payload has ``exp`` = now + ``token_lifetime``; wrong credentials → 401
  ``{"error": "invalid_client", ...}``.
* ``GET /api/v1/devices/{device_id}/images/directories/{sub}``: ``order_by``,
  ``number_of_images`` (capped at ``max_images_per_call``), ``skip`` → ``{"total_image_count",
  "images": [{"name", "contents"}]}``; unknown device / directory → 404 ErrorResponse.
* ``GET /api/v1/devices/{device_id}/inferenceresults``: ``NumberOfInferenceresults``,
  ``filter`` (only the sample's ``EXISTS(... i.T >= "a" AND i.T <= "b")`` forms), ``raw``,
  ``time`` → the latest N matching records, newest first; a filter it cannot parse → 400.
* Bearer-token check on the API: missing, unknown, revoked or expired token → 401
  ErrorResponse (code 401001).
* Fault injection: ``faults`` is a list of ``(path_prefix, status, retry_after)`` consumed
  one per matching request (e.g. 429 / 503 with ``Retry-After``); ``delay`` makes API
  handlers sleep (timeouts).

Every request is recorded in ``requests`` (method, path, raw query, parsed query, headers,
body) so the tests can check what went on the wire.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLIENT_ID = "test-client-id-7f3a"
CLIENT_SECRET = "s3cr3t-Value-!@#-do-not-log"

_FILTER_RE = re.compile(
    r'^EXISTS\(SELECT VALUE i FROM i IN c\.Inferences WHERE '
    r'(i\.T (>=|<=) "(\d{17})")(?: AND i\.T (>=|<=) "(\d{17})")?\)$'
)


def make_jwt(exp: float, jti: str | None = None) -> str:
    """An unsigned JWT-like token (header.payload.signature, base64url) with an ``exp`` claim."""

    def b64(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return ".".join(
        [b64({"alg": "none", "typ": "JWT"}), b64({"exp": int(exp), "jti": jti or secrets.token_hex(8)}), "c2ln"]
    )


@dataclass
class Recorded:
    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeConsole:
    """The fake server's state (edit it from the test; the handler threads read it)."""

    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    token_lifetime: float = 3600.0
    max_images_per_call: int = 256
    images: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[tuple[Any, ...]] = field(default_factory=list)  # (prefix, status, retry_after[, raw body])
    delay: float = 0.0
    tokens: dict[str, float] = field(default_factory=dict)  # token -> exp (server clock)
    requests: list[Recorded] = field(default_factory=list)
    token_requests: int = 0
    issued: list[str] = field(default_factory=list)  # every token handed out
    lock: threading.Lock = field(default_factory=threading.Lock)

    def revoke_all(self) -> None:
        """Make every issued token invalid (the next API call answers 401)."""
        with self.lock:
            self.tokens.clear()

    def api_requests(self, kind: str | None = None) -> list[Recorded]:
        out = [r for r in self.requests if r.path.startswith("/api/")]
        if kind == "images":
            out = [r for r in out if "/images/" in r.path]
        elif kind == "results":
            out = [r for r in out if r.path.endswith("/inferenceresults")]
        return out


def _error_body(code: str, message: str) -> dict[str, str]:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return {"result": "ERROR", "code": code, "message": message, "time": now}


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _record(self, body: bytes) -> tuple[str, dict[str, str]]:
        parts = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        st = self.server.state
        with st.lock:
            st.requests.append(
                Recorded(self.command, parts.path, parts.query, query, dict(self.headers.items()), body)
            )
        return parts.path, query

    def _fault(self, path: str) -> bool:
        st = self.server.state
        with st.lock:
            for i, fault in enumerate(st.faults):
                if path.startswith(fault[0]):
                    del st.faults[i]
                    break
            else:
                return False
        prefix, status, retry_after, *raw = fault
        if raw:
            data = raw[0].encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return True
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        msg = "Too Many Requests" if status == 429 else "Service Unavailable"
        self._send_json(status, _error_body(f"{status}001", msg), headers)
        return True

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path, _ = self._record(body)
        st = self.server.state
        if path != "/oauth2/token":
            self._send_json(404, _error_body("404001", "Not Found"))
            return
        if self._fault(path):
            return
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("scope") != "system"
            or form.get("client_id") != st.client_id
            or form.get("client_secret") != st.client_secret
        ):
            self._send_json(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
            return
        exp = time.time() + st.token_lifetime
        token = make_jwt(exp)
        with st.lock:
            st.tokens[token] = exp
            st.issued.append(token)
            st.token_requests += 1
        self._send_json(200, {"token_type": "Bearer", "expires_in": int(st.token_lifetime),
                              "access_token": token, "scope": "system"})

    def do_GET(self) -> None:  # noqa: N802
        path, query = self._record(b"")
        st = self.server.state
        if not path.startswith("/api/v1/"):
            self._send_json(404, _error_body("404001", "Not Found"))
            return
        if st.delay:
            time.sleep(st.delay)
        if self._fault(path):
            return
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        with st.lock:
            exp = st.tokens.get(token)
        if scheme.lower() != "bearer" or exp is None or exp <= time.time():
            self._send_json(401, _error_body("401001", "Authorization Error"))
            return
        m_img = re.fullmatch(r"/api/v1/devices/([^/]+)/images/directories/(.+)", path)
        m_res = re.fullmatch(r"/api/v1/devices/([^/]+)/inferenceresults", path)
        if m_img:
            self._images(urllib.parse.unquote(m_img.group(1)), urllib.parse.unquote(m_img.group(2)), query)
        elif m_res:
            self._results(urllib.parse.unquote(m_res.group(1)), query)
        else:
            self._send_json(404, _error_body("404001", "Not Found"))

    def _images(self, device: str, sub: str, q: dict[str, str]) -> None:
        st = self.server.state
        items = st.images.get((device, sub))
        if items is None:
            self._send_json(404, _error_body("404001", f"Directory {sub} of device {device} not found"))
            return
        try:
            n = int(q.get("number_of_images", "50"))
            skip = int(q.get("skip", "0"))
            order = q.get("order_by", "ASC")
            if n < 0 or skip < 0 or order not in ("ASC", "DESC"):
                raise ValueError
        except ValueError:
            self._send_json(400, _error_body("400001", "Invalid parameter"))
            return
        ordered = sorted(items, key=lambda im: im["name"], reverse=(order == "DESC"))
        n = min(n, st.max_images_per_call)
        self._send_json(200, {"total_image_count": len(items), "images": ordered[skip : skip + n]})

    def _results(self, device: str, q: dict[str, str]) -> None:
        st = self.server.state
        recs = st.results.get(device)
        if recs is None:
            self._send_json(404, _error_body("404001", f"Device {device} not found"))
            return
        lo, hi = "", "~"
        flt = q.get("filter")
        if flt is not None:
            m = _FILTER_RE.match(flt)
            if not m:
                self._send_json(400, _error_body("400002", "Invalid filter"))
                return
            for op, val in ((m.group(2), m.group(3)), (m.group(4), m.group(5))):
                if op == ">=":
                    lo = val
                elif op == "<=":
                    hi = val

        def matches(rec: dict[str, Any]) -> bool:
            infs = rec.get("inference_result", {}).get("Inferences", [])
            return any(lo <= str(inf.get("T", "")) <= hi for inf in infs)

        n = int(q.get("NumberOfInferenceresults", "20"))
        chosen = [r for r in recs if flt is None or matches(r)]
        # "the latest N": newest first by the record's _ts
        chosen.sort(key=lambda r: r.get("_ts", 0), reverse=True)
        self._send_json(200, chosen[:n])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    state: FakeConsole

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # e.g. a client that timed out closed the socket under a sleeping handler


class ConsoleServer:
    """Start/stop the fake server in a background thread (port chosen by the OS)."""

    def __init__(self, state: FakeConsole | None = None, *, certfile: str | None = None,
                 keyfile: str | None = None) -> None:
        self.state = state or FakeConsole()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.state = self.state
        self.scheme = "http"
        if certfile is not None:  # HTTPS with the given (test) certificate
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    @property
    def console_endpoint(self) -> str:
        return self.base_url + "/api/v1"

    @property
    def token_endpoint(self) -> str:
        return self.base_url + "/oauth2/token"

    def start(self) -> "ConsoleServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
