"""AITRIOS Console REST client: exactly what the human-heatmap sample uses (stdlib only).

Two endpoints and a token (see ``aitrios_console_api.md``):

* ``POST <portal_authorization_endpoint>`` with the client-credentials form body → an access
  token, sent afterwards as ``Authorization: bearer <token>``. The token is cached and fetched
  again when its JWT ``exp`` (read without checking the signature) is within 180 s, already past,
  missing or unreadable, and once more when an API call answers 401.
* ``GET <console_endpoint>/devices/{device_id}/images/directories/{sub_directory_name}``
  (``order_by``, ``number_of_images``, ``skip``; at most 256 images per call) and
  ``GET <console_endpoint>/devices/{device_id}/inferenceresults``
  (``NumberOfInferenceresults`` (sic), ``filter``, ``raw``, ``time``).

Unlike the console access library this client

* puts a timeout on every call (seconds, per socket operation), retries 429 / 5xx answers and
  connection errors with exponential backoff (honouring ``Retry-After``), verifies TLS with the
  system trust store (``ssl.create_default_context``, or ``ca_file``), does not follow redirects
  (so the token never leaves for another host) and refuses plain ``http://`` to hosts other
  than the loopback unless ``allow_http=True``;
* raises :class:`ConsoleError` instead of returning error dicts. It subclasses ``ValueError``
  because the sample turns every error dict into ``ValueError(message)``, so code written for
  the sample keeps working, and the ``heatcore`` CLI reports it as a one-line error;
* never prints, logs or puts into an exception or ``repr`` the client id, the client secret or
  the access token.

:func:`load_console_frames` is the sample's ``console_data_loader`` on top of this client,
yielding :class:`heatcore.records.Detections` records.
"""

from __future__ import annotations

import base64
import binascii
import email.message
import email.utils
import http.client
import ipaddress
import json
import logging
import math
import os
import re
import ssl
import threading
import time as _time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from .. import limits
from .._checks import check_timestamp
from ..records import Detections
from .flatbuf import decode_detections

__all__ = [
    "ConsoleClient",
    "ConsoleError",
    "load_console_frames",
    "timestamp_filter",
    "MAX_IMAGES_PER_CALL",
]

logger = logging.getLogger(__name__)

#: The Console returns at most this many images per ``get_images`` call.
MAX_IMAGES_PER_CALL = 256
#: A cached token is fetched again when it expires within this many seconds.
TOKEN_REFRESH_MARGIN = 180.0

_SETTINGS_KEYS = {
    "console_endpoint": "CONSOLE_ENDPOINT",
    "portal_authorization_endpoint": "PORTAL_AUTHORIZATION_ENDPOINT",
    "client_id": "CLIENT_ID",
    "client_secret": "CLIENT_SECRET",
}
_PLACEHOLDER_RE = re.compile(r"^__\w+__$")
_USER_AGENT = "heatcore-console/1"


class ConsoleError(ValueError):
    """An error answer (or no answer) from the Console or its token endpoint.

    Attributes: ``status`` (HTTP status, or None when no answer came: timeout, refused
    connection), ``code`` (the ErrorResponse ``code`` such as ``"401001"``; ``"Generic Error"``
    when the body is not an ErrorResponse; ``"Timeout"``, ``"ConnectionError"``, ``"TLSError"``,
    ``"InvalidResponse"`` or ``"TokenError"`` for the client's own errors) and ``message``.

    A ``ValueError`` subclass, like the sample's ``ValueError(message)`` on any error dict.
    """

    def __init__(self, status: int | None, code: str | None, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        where = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"Console error ({where}, code {code}): {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.status, self.code, self.message))


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_endpoint(name: str, url: Any, allow_http: bool) -> str:
    if not isinstance(url, str):
        raise TypeError(f"{name} must be a string URL, got {type(url).__name__}")
    url = url.strip()
    if not url:
        raise ValueError(f"{name} is required")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http(s) URL with a host, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{name} must not contain user:password@ (credentials belong in client_id/client_secret)")
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise ValueError(
            f"{name} {url!r} uses plain http to a non-loopback host; use https "
            "(or pass allow_http=True if you really mean it)"
        )
    return url


def _jwt_exp(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without checking the signature (None if unreadable)."""
    try:
        payload = token.split(".")[1]
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        exp = limits.json_loads(raw, "token").get("exp")
    except (IndexError, ValueError, binascii.Error, AttributeError, UnicodeDecodeError):
        return None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not math.isfinite(exp):
        return None
    return float(exp)


def _check_timestamp(name: str, value: Any) -> str:
    """A ``yyyyMMddHHmmssfff`` string (ints from unquoted YAML accepted), validated as a date."""
    return check_timestamp(value, name)


def _exists_filter(first: str | None, last: str | None) -> str | None:
    conds = []
    for op, value in ((">=", first), ("<=", last)):
        if value is None:
            continue
        if '"' in value or "\\" in value:
            raise ValueError(f"timestamp {value!r} contains a quote or backslash; refusing to put it in a filter")
        conds.append(f'i.T {op} "{value}"')
    if not conds:
        return None
    return f"EXISTS(SELECT VALUE i FROM i IN c.Inferences WHERE {' AND '.join(conds)})"


def timestamp_filter(first_timestamp: str | int | None = None, last_timestamp: str | int | None = None) -> str | None:
    """The sample's inference-result filter on ``Inferences[].T`` (None when both are unset).

    ``EXISTS(SELECT VALUE i FROM i IN c.Inferences WHERE i.T >= "<first>" AND i.T <= "<last>")``,
    with only the condition(s) whose bound is given. Bounds are ``yyyyMMddHHmmssfff`` strings
    (compared as strings by the Console, which is time order at fixed width).
    """
    first = None if first_timestamp is None else _check_timestamp("first_timestamp", first_timestamp)
    last = None if last_timestamp is None else _check_timestamp("last_timestamp", last_timestamp)
    return _exists_filter(first, last)


def _nonneg_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return int(value)


def _nonblank(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    text = str(value)
    if not text.strip():
        raise ValueError(f"{name} must not be empty")
    return text


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Do not follow redirects: a 3xx becomes an HTTPError (and the token stays home)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102, ANN001
        return None


# ----------------------------------------------------------------------------------------------
# the client
# ----------------------------------------------------------------------------------------------


class ConsoleClient:
    """REST client for the two Console calls of the heatmap sample.

    Parameters
    ----------
    console_endpoint:
        API base URL, e.g. ``https://console.aitrios.sony-semicon.com/api/v1``; resource paths
        are appended as plain strings.
    portal_authorization_endpoint:
        Token URL, e.g. ``https://auth.aitrios.sony-semicon.com/oauth2/default/v1/token``.
    client_id, client_secret:
        Client credentials (never printed, logged or shown in errors).
    timeout:
        Seconds per socket operation (connect, each read) of every request.
    retries:
        How many times a request is repeated after 429 / 5xx or a connection error / timeout.
    backoff:
        Seconds before the first retry; doubles on each later retry (capped at 60 s). A
        ``Retry-After`` header (seconds or HTTP date, capped at 300 s) takes precedence.
    verify:
        Verify TLS certificates and host names (default). ``False`` disables it (logged).
    ca_file:
        A PEM bundle to trust instead of the system store.
    allow_http:
        Allow plain ``http://`` endpoints on non-loopback hosts (loopback is always allowed).
    """

    max_retry_after = 300.0
    max_backoff = 60.0

    def __init__(
        self,
        console_endpoint: str,
        portal_authorization_endpoint: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        verify: bool = True,
        ca_file: str | os.PathLike[str] | None = None,
        allow_http: bool = False,
    ) -> None:
        self.console_endpoint = _check_endpoint("console_endpoint", console_endpoint, allow_http)
        self.portal_authorization_endpoint = _check_endpoint(
            "portal_authorization_endpoint", portal_authorization_endpoint, allow_http
        )
        for name, value in (("client_id", client_id), ("client_secret", client_secret)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, got {type(value).__name__}")
            if not value.strip():
                raise ValueError(f"{name} is required")
        self._client_id = client_id
        self._client_secret = client_secret
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
            math.isfinite(timeout) and timeout > 0
        ):
            raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
        self.timeout = float(timeout)
        self.retries = _nonneg_int("retries", retries)
        if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or not (
            math.isfinite(backoff) and backoff >= 0
        ):
            raise ValueError(f"backoff must be a finite number of seconds >= 0, got {backoff!r}")
        self.backoff = float(backoff)
        if ca_file is not None:
            ca_path = Path(ca_file)
            if not ca_path.is_file():
                raise FileNotFoundError(f"ca_file not found: {ca_path}")
            ctx = ssl.create_default_context(cafile=str(ca_path))
        else:
            ctx = ssl.create_default_context()
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            logger.warning("TLS certificate verification is disabled for the Console client")
        self.verify = bool(verify)
        self._ssl = ctx
        self._openers: dict[bool, urllib.request.OpenerDirector] = {}
        self._token: str | None = None
        self._lock = threading.Lock()
        # Injectable for tests: wall clock (s since epoch) and sleep.
        self._clock: Callable[[], float] = _time.time
        self._sleep: Callable[[float], None] = _time.sleep

    # -- construction from the sample's settings -----------------------------------------------

    @classmethod
    def from_settings(cls, path: str | os.PathLike[str] | None = None, **options: Any) -> "ConsoleClient":
        """Build a client from the sample's ``console_access_settings.yaml`` and/or the environment.

        ``path`` is a YAML file with a ``console_access_settings`` mapping holding
        ``console_endpoint``, ``portal_authorization_endpoint``, ``client_id`` and
        ``client_secret``. A non-blank ``application_id`` (Enterprise Edition, MSAL sign-in, library
        v1.2.0 only) is refused with a ValueError: only the standard token flow is supported.
        A key absent from the file (or every key, when ``path`` is None) is read from the
        environment variable ``CONSOLE_ENDPOINT``, ``PORTAL_AUTHORIZATION_ENDPOINT``,
        ``CLIENT_ID`` or ``CLIENT_SECRET``. The file may not be a symbolic link (as in the
        console access library). ``options`` go to the constructor (timeout, retries, ...).
        """
        values: dict[str, str] = {}
        where = "the environment"
        if path is not None:
            p = Path(path)
            where = str(p)
            if p.is_symlink():
                raise ValueError(f"refusing to read Console access settings through a symbolic link: {p}")
            if not p.is_file():
                raise FileNotFoundError(f"Console access settings file not found: {p}")
            # The parser's message can quote the offending line (maybe a secret): give the place only.
            # No aliases, bounded size and depth (heatcore.limits).
            doc = limits.load_yaml(p.read_bytes(), str(p), quote_problem=False)
            section = doc.get("console_access_settings") if isinstance(doc, dict) else None
            if not isinstance(section, dict):
                raise ValueError(f"{p} has no 'console_access_settings' mapping")
            app_id = section.get("application_id")
            if app_id is not None and str(app_id).strip():
                raise ValueError(
                    f"{p}: application_id is set, which selects the Enterprise Edition (MSAL) sign-in; "
                    "heatcore supports the standard client-credentials token only (remove application_id)"
                )
            for key in _SETTINGS_KEYS:
                if key in section:
                    value = section[key]
                    if value is None or isinstance(value, (dict, list, bool)) or not str(value).strip():
                        raise ValueError(f"{p}: console_access_settings.{key} is required but blank or invalid")
                    values[key] = str(value).strip()
        for key, env in _SETTINGS_KEYS.items():
            if key in values:
                continue
            value = os.environ.get(env)
            if value is None:
                raise ValueError(f"{key} is required: not in {where} and environment variable {env} is not set")
            if not value.strip():
                raise ValueError(f"{key} is required: environment variable {env} is blank")
            values[key] = value.strip()
        return cls(
            console_endpoint=values["console_endpoint"],
            portal_authorization_endpoint=values["portal_authorization_endpoint"],
            client_id=values["client_id"],
            client_secret=values["client_secret"],
            **options,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(console_endpoint={self.console_endpoint!r}, "
            f"portal_authorization_endpoint={self.portal_authorization_endpoint!r}, "
            "client_id=<hidden>, client_secret=<hidden>)"
        )

    def __getstate__(self) -> None:
        raise TypeError("ConsoleClient holds credentials and cannot be pickled")

    # -- plumbing ------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        secrets = [self._client_secret, self._client_id, self._token or ""]
        for s in list(secrets):
            secrets.append(urllib.parse.quote_plus(s))
            secrets.append(urllib.parse.quote(s))
        for s in sorted({s for s in secrets if s}, key=len, reverse=True):
            text = text.replace(s, "<hidden>")
        return text

    def _opener(self, url: str) -> urllib.request.OpenerDirector:
        # Loopback requests bypass any environment proxy; others use it like the library does.
        loop = _is_loopback(urllib.parse.urlsplit(url).hostname)
        opener = self._openers.get(loop)
        if opener is None:
            handlers: list[Any] = [urllib.request.HTTPSHandler(context=self._ssl), _NoRedirect()]
            if loop:
                handlers.append(urllib.request.ProxyHandler({}))
            opener = urllib.request.build_opener(*handlers)
            self._openers[loop] = opener
        return opener

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            seconds: float | None
            try:
                seconds = float(retry_after)
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(retry_after)
                    seconds = when.timestamp() - self._clock()
                except (TypeError, ValueError, IndexError):
                    seconds = None
            if seconds is not None and math.isfinite(seconds):
                return min(max(seconds, 0.0), self.max_retry_after)
        return min(self.backoff * 2.0**attempt, self.max_backoff)

    def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, what: str
    ) -> tuple[int, bytes, Mapping[str, str] | email.message.Message]:
        """One logical request with retries; returns (status, body, headers) of the last answer."""
        attempt = 0
        while True:
            req = urllib.request.Request(url, data=body, method=method, headers=headers)
            retry_after: str | None = None
            try:
                with self._opener(url).open(req, timeout=self.timeout) as resp:
                    return resp.status, resp.read(), resp.headers
            except urllib.error.HTTPError as exc:
                try:
                    data = exc.read()
                except (OSError, http.client.HTTPException):
                    data = b""
                finally:
                    exc.close()
                if not (exc.code == 429 or 500 <= exc.code <= 599) or attempt >= self.retries:
                    return exc.code, data, exc.headers
                retry_after = exc.headers.get("Retry-After") if exc.headers is not None else None
                problem = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                if isinstance(reason, ssl.SSLCertVerificationError):  # not transient: never retried
                    raise ConsoleError(None, "TLSError", self._redact(f"{what}: TLS failure: {reason}")) from None
                timed_out = isinstance(reason, TimeoutError) or "timed out" in str(reason)
                if attempt >= self.retries:
                    code = "Timeout" if timed_out else "ConnectionError"
                    detail = f"no answer within {self.timeout:g} s" if timed_out else str(reason)
                    raise ConsoleError(
                        None, code, self._redact(f"{what}: {detail} (after {attempt + 1} attempts)")
                    ) from None
                problem = "timeout" if timed_out else f"connection error ({type(reason).__name__})"
            delay = self._delay(attempt, retry_after)
            attempt += 1
            logger.warning("%s: %s; retry %d of %d in %.3g s", what, problem, attempt, self.retries, delay)
            self._sleep(delay)

    def _error(self, status: int, data: bytes, what: str) -> ConsoleError:
        text = data.decode("utf-8", "replace")
        code, message = "Generic Error", None
        try:
            body = limits.json_loads(text, f"{what}: error reply")
        except ValueError:
            body = None
        if isinstance(body, dict):
            if "code" in body and "message" in body:
                code, message = str(body["code"]), str(body["message"])
            elif "error" in body:  # OAuth 2 token endpoint errors
                code = str(body["error"])
                message = str(body.get("error_description") or body["error"])
        if message is None:
            message = text.strip()[:300] or http.client.responses.get(status, "error")
        return ConsoleError(status, self._redact(code), self._redact(f"{what}: {message}"))

    # -- token ---------------------------------------------------------------------------------

    def _needs_token(self) -> bool:
        if self._token is None:
            return True
        exp = _jwt_exp(self._token)
        return exp is None or exp - self._clock() <= TOKEN_REFRESH_MARGIN

    def _fetch_token(self) -> str:
        form = urllib.parse.urlencode(
            [
                ("grant_type", "client_credentials"),
                ("client_secret", self._client_secret),
                ("scope", "system"),
                ("client_id", self._client_id),
            ]
        ).encode("ascii")
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }
        what = "access token request"
        logger.debug("requesting a Console access token from %s", self.portal_authorization_endpoint)
        status, data, _ = self._send("POST", self.portal_authorization_endpoint, headers, form, what)
        if not 200 <= status < 300:
            raise self._error(status, data, what)
        try:
            token = limits.json_loads(data.decode("utf-8"), f"{what}: reply").get("access_token")
        except (ValueError, AttributeError, UnicodeDecodeError):
            token = None
        if not isinstance(token, str) or not token.strip():
            raise ConsoleError(status, "TokenError", f"{what}: the reply has no access_token")
        return token

    def token(self, *, force: bool = False) -> str:
        """The current access token, fetched when missing, expiring within 180 s, or ``force``."""
        with self._lock:
            if force or self._needs_token():
                self._token = self._fetch_token()
            return self._token  # type: ignore[return-value]

    # -- API calls -----------------------------------------------------------------------------

    def _get_json(self, path: str, query: list[tuple[str, Any]], what: str) -> Any:
        qs = "&".join(f"{k}={urllib.parse.quote(str(v))}" for k, v in query if v is not None)
        url = self.console_endpoint + path + (f"?{qs}" if qs else "")
        refreshed = False
        while True:
            token = self.token()
            headers = {
                "Authorization": f"bearer {token}",
                "Accept": "application/json",
                "User-Agent": _USER_AGENT,
                "Accept-Encoding": "identity",
            }
            logger.debug("GET %s", path)
            status, data, _ = self._send("GET", url, headers, None, what)
            if status == 401 and not refreshed:
                logger.info("%s: HTTP 401, fetching a new access token and trying once more", what)
                with self._lock:
                    if self._token == token:
                        self._token = None
                refreshed = True
                continue
            if not 200 <= status < 300:
                raise self._error(status, data, what)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ConsoleError(status, "InvalidResponse", f"{what}: the reply is not JSON") from None
            if limits.too_deep(text):
                raise ConsoleError(status, "InvalidResponse",
                                   f"{what}: the reply nests deeper than {limits.MAX_JSON_DEPTH} levels")
            try:
                return json.loads(text)
            except ValueError:
                raise ConsoleError(status, "InvalidResponse", f"{what}: the reply is not JSON") from None

    def get_images(
        self,
        device_id: str,
        sub_directory_name: str,
        number_of_images: int = 50,
        skip: int = 0,
        order_by: str = "ASC",
    ) -> dict[str, Any]:
        """One ``GET /devices/{device_id}/images/directories/{sub_directory_name}`` call.

        Returns ``{"total_image_count": int, "images": [{"name": "<timestamp>.jpg",
        "contents": "<base64 JPEG>"}, ...]}``. The Console caps one call at 256 images;
        see :meth:`iter_images` for more.
        """
        device_id = _nonblank("device_id", device_id)
        sub_directory_name = _nonblank("sub_directory_name", sub_directory_name)
        number_of_images = _nonneg_int("number_of_images", number_of_images)
        skip = _nonneg_int("skip", skip)
        if not isinstance(order_by, str) or order_by.upper() not in ("ASC", "DESC"):
            raise ValueError(f"order_by must be 'ASC' or 'DESC', got {order_by!r}")
        path = (
            f"/devices/{urllib.parse.quote(device_id)}/images/directories/"
            f"{urllib.parse.quote(sub_directory_name)}"
        )
        query = [("order_by", order_by.upper()), ("number_of_images", number_of_images), ("skip", skip)]
        what = f"get_images({device_id!r}, {sub_directory_name!r})"
        reply = self._get_json(path, query, what)
        ok = (
            isinstance(reply, dict)
            and isinstance(reply.get("total_image_count"), int)
            and isinstance(reply.get("images"), list)
            and all(
                isinstance(im, dict) and isinstance(im.get("name"), str) and isinstance(im.get("contents"), str)
                for im in reply["images"]
            )
        )
        if not ok:
            raise ConsoleError(200, "InvalidResponse", f"{what}: the reply is not an images list")
        return reply

    def iter_image_pages(
        self,
        device_id: str,
        sub_directory_name: str,
        number_of_images: int | None = None,
        *,
        skip: int = 0,
        order_by: str = "ASC",
        page_size: int = MAX_IMAGES_PER_CALL,
    ) -> Iterator[list[dict[str, Any]]]:
        """Fetch images page by page (lists of ``{"name", "contents"}``), lazily.

        ``number_of_images`` None means all. Each call asks for ``min(page_size, remaining)``
        images and moves ``skip`` on by the number actually returned (the library adds the page
        size, which would skip images if the server returned fewer). Stops when the Console
        reports ``total_image_count == 0``, when ``skip`` reaches the total, when a page comes
        back empty or when ``number_of_images`` have been returned.
        """
        if number_of_images is not None:
            number_of_images = _nonneg_int("number_of_images", number_of_images)
        skip = _nonneg_int("skip", skip)
        page_size = _nonneg_int("page_size", page_size)
        if not 1 <= page_size <= MAX_IMAGES_PER_CALL:
            raise ValueError(f"page_size must be in 1..{MAX_IMAGES_PER_CALL}, got {page_size}")
        remaining = number_of_images
        while remaining is None or remaining > 0:
            ask = page_size if remaining is None else min(page_size, remaining)
            reply = self.get_images(device_id, sub_directory_name, ask, skip, order_by)
            images = reply["images"][:ask]
            total = reply["total_image_count"]
            if not images:
                return
            yield images
            skip += len(images)
            if remaining is not None:
                remaining -= len(images)
            if total <= 0 or skip >= total:
                return

    def iter_images(
        self,
        device_id: str,
        sub_directory_name: str,
        number_of_images: int | None = None,
        *,
        skip: int = 0,
        order_by: str = "ASC",
        page_size: int = MAX_IMAGES_PER_CALL,
    ) -> Iterator[dict[str, Any]]:
        """Every image (``{"name", "contents"}``) of a sub-directory, paging past 256 per call."""
        for page in self.iter_image_pages(
            device_id, sub_directory_name, number_of_images, skip=skip, order_by=order_by, page_size=page_size
        ):
            yield from page

    def get_inference_results(
        self,
        device_id: str,
        filter: str | None = None,  # noqa: A002 - the API's name
        number_of_inference_results: int = 20,
        raw: int = 1,
        time: str | None = None,
    ) -> list[Any]:
        """One ``GET /devices/{device_id}/inferenceresults`` call; returns the JSON list.

        ``filter`` is a Cosmos DB condition (see :func:`timestamp_filter`); the query carries
        ``NumberOfInferenceresults`` (the API's spelling), ``filter``, ``raw`` and ``time`` in
        that order, leaving out ``filter`` / ``time`` when None. ``time`` is a 17-digit
        ``yyyyMMddHHmmssfff`` string.
        """
        device_id = _nonblank("device_id", device_id)
        if filter is not None:
            if not isinstance(filter, str):
                raise TypeError(f"filter must be a string, got {type(filter).__name__}")
            if not filter.strip():
                raise ValueError("filter must not be empty (pass None for no filter)")
        number = _nonneg_int("number_of_inference_results", number_of_inference_results)
        if isinstance(raw, bool) or raw not in (0, 1):
            raise ValueError(f"raw must be 0 or 1, got {raw!r}")
        if time is not None:
            time = _check_timestamp("time", time)
        path = f"/devices/{urllib.parse.quote(device_id)}/inferenceresults"
        query = [("NumberOfInferenceresults", number), ("filter", filter), ("raw", int(raw)), ("time", time)]
        what = f"get_inference_results({device_id!r})"
        reply = self._get_json(path, query, what)
        if not isinstance(reply, list):
            raise ConsoleError(200, "InvalidResponse", f"{what}: the reply is not a list")
        return reply


# ----------------------------------------------------------------------------------------------
# the sample's console data loader
# ----------------------------------------------------------------------------------------------


def _first_inference(record: Any) -> tuple[str | None, Any]:
    """(T, O) of ``inference_result.Inferences[0]`` (the sample uses only the first)."""
    try:
        inf = record["inference_result"]["Inferences"][0]
        t = inf["T"]
    except (KeyError, IndexError, TypeError):
        return None, None
    if isinstance(t, bool) or not isinstance(t, (str, int)):
        return None, None
    return str(t), inf.get("O") if isinstance(inf, dict) else None


def _decode_meta(o: Any, t: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    if o is None:
        return None
    if not isinstance(o, str):
        raise ValueError(f"inference result T={t}: O must be a base64 string, got {type(o).__name__}")
    try:
        raw = base64.b64decode(o, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"inference result T={t}: O is not valid base64") from None
    try:
        return decode_detections(raw)
    except ValueError as exc:
        raise ValueError(f"inference result T={t}: {exc}") from None


def _decode_jpeg(contents: str, name: str) -> np.ndarray:
    import cv2

    try:
        raw = base64.b64decode(contents, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"Console image {name!r}: contents are not valid base64") from None
    img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR) if raw else None
    if img is None:
        raise ValueError(f"Console image {name!r}: contents are not a decodable image")
    return img


def _frame(index: int, timestamp: str | None, meta: Any, image: np.ndarray | None) -> Detections:
    if meta is None:
        return Detections(frame=index, timestamp=timestamp, image=image)
    boxes, scores, class_ids = meta
    return Detections(
        boxes, scores, class_ids, frame=index, timestamp=timestamp, image=image
    )


def _setting_timestamp(settings: Mapping[str, Any], key: str) -> str | None:
    value = settings.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and _PLACEHOLDER_RE.match(value.strip()):
        warnings.warn(
            f"console_data_settings.{key} is the placeholder {value!r}; treating it as unset",
            UserWarning,
            stacklevel=3,
        )
        return None
    return _check_timestamp(f"console_data_settings.{key}", value)


def _setting_count(settings: Mapping[str, Any], key: str) -> int:
    if key not in settings:
        raise ValueError(f"console_data_settings.{key} is required")
    value = settings[key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"console_data_settings.{key} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"console_data_settings.{key} must be >= 1, got {value!r}")
    return int(value)


def load_console_frames(
    console_data_settings: Mapping[str, Any],
    *,
    base_dir: Path | None = None,
    client: ConsoleClient | None = None,
) -> tuple[Iterator[Detections], str | None]:
    """The sample's console data loader: detection frames from the Console, streamed.

    ``console_data_settings`` is the ``console_data_settings`` mapping of the sample's
    ``heat_map_app.yaml``: ``setting_path`` (the console access settings YAML, relative to
    ``base_dir`` or the working directory; not needed when ``client`` is given), ``device_id``,
    ``sub_directory_name`` and, depending on the mode, ``number_of_images`` or
    ``number_of_inference_results``, ``first_timestamp``, ``last_timestamp``.

    *Images + metadata* (``sub_directory_name`` non-empty): fetch ``number_of_images`` images
    (oldest first; more than 256 are fetched page by page, which the sample cannot do). For each
    page, fetch as many inference results as the page has images, filtered on
    ``min(T) <= Inferences[].T <= max(T)`` of the page's image time stamps (image name without
    ``.jpg``). Each image takes the **first** result whose ``Inferences[0].T`` equals its time
    stamp exactly; an image without one becomes a frame with no detections. Frames carry the
    image (BGR uint8) and its time stamp, in image order. For up to 256 images this is exactly
    the sample's pair of calls.

    *Metadata only* (``sub_directory_name`` empty or missing): one call for
    ``number_of_inference_results`` results, filtered on ``first_timestamp`` /
    ``last_timestamp`` (either may be unset; ``"__last_timestamp__"``-style placeholders count
    as unset, with a warning). Frames come in the order the Console returns them (not sorted,
    as in the sample), with ``image=None``.

    Only ``Inferences[0]`` of each result is used; its ``O`` is base64 of a
    ``SmartCamera.ObjectDetectionTop`` flatbuffer, decoded with
    :func:`heatcore.io.flatbuf.decode_detections`. Records without ``Inferences[0].T`` are
    skipped with a warning.

    Settings are checked and the first Console call is made before returning (so bad settings
    or credentials fail at once); later pages are fetched and decoded while iterating.

    Returns
    -------
    frames, image_name:
        An iterator of :class:`Detections` (``frame`` counts from 0, ``timestamp`` set) and
        ``sub_directory_name`` (the sample names its video after it) or None in metadata mode.

    Raises
    ------
    ValueError
        Missing ``setting_path`` (when no ``client``), placeholders left in ``device_id`` /
        ``sub_directory_name``, bad counts or time stamps, a symlinked settings file; while
        iterating, undecodable images or ``O`` payloads (naming the image / ``T``).
    FileNotFoundError
        ``setting_path`` does not exist (the sample raises ``ValueError("cannot open ...")``).
    ConsoleError
        Any error answer from the Console or token endpoint (also a ValueError).
    """
    if not isinstance(console_data_settings, Mapping):
        raise TypeError(f"console_data_settings must be a mapping, got {type(console_data_settings).__name__}")
    s = console_data_settings
    if client is None:
        setting_path = s.get("setting_path")
        if setting_path is None or (isinstance(setting_path, str) and not setting_path.strip()):
            raise ValueError(
                "console_data_settings.setting_path is missing: the Console access settings file is not found"
            )
        p = Path(setting_path)
        if not p.is_absolute() and base_dir is not None:
            p = Path(base_dir) / p
        if not p.exists() and not p.is_symlink():
            raise FileNotFoundError(f"cannot open Console access settings {p}")
        client = ConsoleClient.from_settings(p)
    device_id = _nonblank("console_data_settings.device_id", s.get("device_id", ""))
    if _PLACEHOLDER_RE.match(device_id.strip()):
        raise ValueError(f"console_data_settings.device_id is still the placeholder {device_id!r}")
    sub = s.get("sub_directory_name")
    sub = "" if sub is None else sub
    if isinstance(sub, bool) or not isinstance(sub, (str, int)):
        raise TypeError(f"console_data_settings.sub_directory_name must be a string, got {sub!r}")
    sub = str(sub)
    if _PLACEHOLDER_RE.match(sub.strip()):
        raise ValueError(
            f"console_data_settings.sub_directory_name is still the placeholder {sub!r}; "
            'set a directory name, or "" for metadata-only mode'
        )

    if sub:
        n_images = _setting_count(s, "number_of_images")
        pages = client.iter_image_pages(device_id, sub, n_images)
        first_page = next(pages, None)  # fail fast on bad credentials / device / directory
        return _image_frames(client, device_id, first_page, pages), sub

    n_results = _setting_count(s, "number_of_inference_results")
    first = _setting_timestamp(s, "first_timestamp")
    last = _setting_timestamp(s, "last_timestamp")
    results = client.get_inference_results(
        device_id, filter=_exists_filter(first, last), number_of_inference_results=n_results, raw=1
    )
    return _metadata_frames(results), None


def _usable(results: list[Any]) -> list[tuple[str, Any]]:
    out = []
    for rec in results:
        t, o = _first_inference(rec)
        if t is not None:
            out.append((t, o))
    skipped = len(results) - len(out)
    if skipped:
        warnings.warn(
            f"{skipped} Console inference record(s) without inference_result.Inferences[0].T skipped",
            RuntimeWarning,
            stacklevel=3,
        )
    return out


def _record_stamp(t: str) -> str:
    # T names the per-frame JSON file: only a real yyyyMMddHHmmssfff time stamp is accepted.
    return check_timestamp(t, "Console inference result Inferences[0].T")


def _image_stamp(name: Any) -> str:
    # the sample's rule: the image name without ".jpg" is its time stamp (and names its JSON file)
    if not isinstance(name, str) or not name.endswith(".jpg"):
        raise ValueError(f"Console image name {limits.clip(name)} is not <yyyyMMddHHmmssfff>.jpg")
    try:
        return check_timestamp(name[:-4], "time stamp")
    except ValueError as exc:
        raise ValueError(f"Console image name {limits.clip(name)} is not <yyyyMMddHHmmssfff>.jpg ({exc})") from None


def _metadata_frames(results: list[Any]) -> Iterator[Detections]:
    for index, (t, o) in enumerate(_usable(results)):
        t = _record_stamp(t)
        yield _frame(index, t, _decode_meta(o, t), None)


def _image_frames(
    client: ConsoleClient,
    device_id: str,
    first_page: list[dict[str, Any]] | None,
    pages: Iterator[list[dict[str, Any]]],
) -> Iterator[Detections]:
    index = 0
    page = first_page
    while page:
        stamps = [_image_stamp(im["name"]) for im in page]
        results = client.get_inference_results(
            device_id,
            filter=_exists_filter(min(stamps), max(stamps)),
            number_of_inference_results=len(page),
            raw=1,
        )
        by_time: dict[str, Any] = {}
        for t, o in _usable(results):
            by_time.setdefault(t, o)  # the first result with this exact T wins
        for im, ts in zip(page, stamps):
            image = _decode_jpeg(im["contents"], im["name"])
            meta = _decode_meta(by_time[ts], ts) if ts in by_time else None
            yield _frame(index, ts, meta, image)
            index += 1
        page = next(pages, None)
