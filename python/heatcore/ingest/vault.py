"""Download recordings from Kerberos Vault (stdlib ``urllib``; no extra dependency).

``GET {vault_url}/api/storage/blob`` (older deployments: ``{vault_url}/storage/blob``) with the
headers ``X-Kerberos-Storage-FileName`` / ``-Provider`` / ``-AccessKey`` / ``-SecretAccessKey``
answers the recording; some deployments answer ``GET {vault_url}/api/storage`` with
``{"data": "<signed URL>"}`` instead (``mode="signed"``). The body is streamed to a temporary
file with a size limit, and its size is checked against the message's ``fileSize``. 5xx, 429 and
time-outs are retried with exponential backoff (``Retry-After`` honoured, capped); after the last
attempt :class:`DownloadError` is raised (the watcher parks the recording in its retry list).

Credentials come from the environment (``HEATCORE_VAULT_ACCESS_KEY``,
``HEATCORE_VAULT_SECRET_KEY``) or a settings file (YAML ``{access_key: ..., secret_key: ...}``,
path in ``HEATCORE_VAULT_SETTINGS``); they are never logged nor put in error messages.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

__all__ = ["VaultClient", "DownloadError", "vault_credentials"]

log = logging.getLogger("heatcore.ingest")

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A recording could not be downloaded (after retries when ``retryable``)."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def vault_credentials(settings: str | os.PathLike[str] | None = None) -> tuple[str, str]:
    """(access key, secret key): the environment variables win, else the settings file
    (``settings`` or ``$HEATCORE_VAULT_SETTINGS``), else empty strings."""
    ak = os.environ.get("HEATCORE_VAULT_ACCESS_KEY", "")
    sk = os.environ.get("HEATCORE_VAULT_SECRET_KEY", "")
    path = settings or os.environ.get("HEATCORE_VAULT_SETTINGS")
    if (not ak or not sk) and path:
        from ..limits import load_yaml

        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"no such Vault settings file: {p}")
        data = load_yaml(p.read_bytes(), what=str(p), quote_problem=False) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{p} must hold a mapping with access_key and secret_key")
        data = data.get("vault", data) if isinstance(data.get("vault"), dict) else data
        ak = ak or str(data.get("access_key", ""))
        sk = sk or str(data.get("secret_key", ""))
    return ak, sk


@dataclass
class VaultClient:
    """Downloads recordings from a Kerberos Vault at ``url``.

    ``mode``: ``"blob"`` (``/api/storage/blob``, falling back to ``/storage/blob`` on 404) or
    ``"signed"`` (``/api/storage`` answers a signed URL). ``max_bytes``: refuse larger bodies.
    ``retries``: attempts after the first; ``backoff``: first wait in seconds (doubles, at most
    ``max_backoff``); ``timeout``: seconds without data before an attempt is abandoned."""

    url: str
    access_key: str = ""
    secret_key: str = ""
    mode: str = "blob"
    max_bytes: int = 4 << 30
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"the Vault URL must start with http:// or https://, got {self.url!r}")
        self.url = self.url.rstrip("/")
        if self.mode not in ("blob", "signed"):
            raise ValueError(f"Vault mode must be 'blob' or 'signed', got {self.mode!r}")

    def __repr__(self) -> str:  # never show the keys
        return f"VaultClient(url={self.url!r}, mode={self.mode!r})"

    def _headers(self, key: str, provider: str) -> dict[str, str]:
        return {"X-Kerberos-Storage-FileName": key, "X-Kerberos-Storage-Provider": provider,
                "X-Kerberos-Storage-AccessKey": self.access_key,
                "X-Kerberos-Storage-SecretAccessKey": self.secret_key}

    def download(self, key: str, provider: str, file_size: int | None = None,
                 directory: str | os.PathLike[str] | None = None) -> Path:
        """Stream the recording ``key`` to a temporary file (the caller removes it) and return its
        path. Raises DownloadError (``retryable`` False for 4xx other than 429, or a body larger
        than ``max_bytes``)."""
        if file_size is not None and file_size > self.max_bytes:
            raise DownloadError(f"{key} is {file_size:,} bytes, more than the limit of {self.max_bytes:,}",
                                retryable=False)
        last: DownloadError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                if last is not None and getattr(last, "retry_after", None) is not None:
                    wait = min(self.max_backoff, max(0.0, last.retry_after))  # type: ignore[attr-defined]
                log.warning("Vault download of %s failed (%s); retry %d/%d in %.1f s", key, last, attempt,
                            self.retries, wait)
                self.sleep(wait)
            try:
                return self._attempt(key, provider, file_size, directory)
            except DownloadError as exc:
                if not exc.retryable:
                    raise
                last = exc
        assert last is not None
        raise DownloadError(f"{last} (after {self.retries + 1} attempts)")

    def _open(self, url: str, headers: dict[str, str]) -> Any:
        req = urllib.request.Request(url, headers=headers, method="GET")
        return urllib.request.urlopen(req, timeout=self.timeout)  # noqa: S310 - http(s) checked above

    def _get(self, key: str, provider: str) -> Any:
        headers = self._headers(key, provider)
        if self.mode == "signed":
            with self._open(self.url + "/api/storage", headers) as r:
                body = r.read(1 << 16)
            try:
                signed = json.loads(body)["data"]
            except (ValueError, KeyError, TypeError):
                raise DownloadError(f"Vault /api/storage did not answer {{\"data\": <URL>}} for {key}") from None
            if not isinstance(signed, str) or not signed.startswith(("http://", "https://")):
                raise DownloadError(f"Vault /api/storage answered no http(s) URL for {key}", retryable=False)
            return self._open(signed, {})
        try:
            return self._open(self.url + "/api/storage/blob", headers)
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
            exc.close()
            return self._open(self.url + "/storage/blob", headers)

    def _attempt(self, key: str, provider: str, file_size: int | None,
                 directory: str | os.PathLike[str] | None) -> Path:
        suffix = Path(key).suffix[:8] or ".mp4"
        fd, tmp = tempfile.mkstemp(prefix="heatcore-rec-", suffix=suffix, dir=directory)
        ok = False
        try:
            try:
                resp = self._get(key, provider)
            except urllib.error.HTTPError as exc:
                code = exc.code
                ra = exc.headers.get("Retry-After") if exc.headers else None
                exc.close()
                err = DownloadError(f"Vault answered HTTP {code} for {key}", retryable=code >= 500 or code == 429)
                try:
                    err.retry_after = float(ra) if ra is not None else None  # type: ignore[attr-defined]
                except ValueError:
                    err.retry_after = None  # type: ignore[attr-defined]
                raise err from None
            total = 0
            with resp, os.fdopen(fd, "wb") as f:
                fd = -1
                while True:
                    chunk = resp.read(CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise DownloadError(f"{key} is larger than the limit of {self.max_bytes:,} bytes",
                                            retryable=False)
                    f.write(chunk)
            if file_size is not None and total != file_size:
                raise DownloadError(f"{key}: received {total:,} bytes, the message says fileSize {file_size:,}")
            ok = True
            return Path(tmp)
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(f"Vault download of {key} failed: {type(reason).__name__}: {reason}") from None
        except http.client.IncompleteRead as exc:
            raise DownloadError(f"{key}: the connection closed after {len(exc.partial):,} bytes") from None
        finally:
            if fd != -1:
                os.close(fd)
            if not ok and os.path.exists(tmp):
                os.unlink(tmp)
