"""heatcore.io.console against a fake Console + token server on 127.0.0.1 (tests/console_server.py)."""

from __future__ import annotations

import base64
import logging
import pickle
import socket
import time
import urllib.parse
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heatcore.io.console import (
    ConsoleClient,
    ConsoleError,
    _jwt_exp,
    load_console_frames,
    timestamp_filter,
)
from heatcore.records import Detections
from heatcore.io.flatbuf import encode_detections

from console_server import CLIENT_ID, CLIENT_SECRET, ConsoleServer, make_jwt

# ------------------------------------------------------------------ fixtures and data


def make_client(server, **kw) -> ConsoleClient:
    opts = {"timeout": 2.0, "retries": 3, "backoff": 0.001}
    opts.update(kw)
    return ConsoleClient(server.console_endpoint, server.token_endpoint, CLIENT_ID, CLIENT_SECRET, **opts)


@pytest.fixture
def client(server):
    return make_client(server)


def jpeg_b64(bgr=(10, 200, 30), size=(16, 24)) -> str:
    img = np.zeros((size[0], size[1], 3), np.uint8)
    img[:] = bgr
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return base64.b64encode(data.tobytes()).decode()


def stamp(i: int) -> str:
    return (datetime(2023, 4, 12, 14, 0, 0) + timedelta(milliseconds=137 * i)).strftime("%Y%m%d%H%M%S%f")[:17]


def record(t: str, boxes, ts: int, *, extra_inferences=(), scores=None, classes=None) -> dict:
    o = base64.b64encode(encode_detections(boxes, scores, classes)).decode()
    infs = [{"T": t, "O": o}, *extra_inferences]
    return {
        "id": f"rec-{t}-{ts}",
        "device_id": "Aid-1",
        "model_id": "m",
        "_ts": ts,
        "inference_result": {"DeviceID": "Aid-1", "ModelID": "m", "Image": True, "Inferences": infs},
    }


def secrets_of(server) -> list[str]:
    return [CLIENT_ID, CLIENT_SECRET, *server.state.issued]


# ------------------------------------------------------------------ requests on the wire


def test_images_request_is_built_like_the_library(server, client):
    server.state.images[("Aid 1", "sub dir")] = [{"name": f"{stamp(i)}.jpg", "contents": "eA=="} for i in range(5)]
    reply = client.get_images("Aid 1", "sub dir", number_of_images=3, skip=1)
    assert reply["total_image_count"] == 5
    assert [im["name"] for im in reply["images"]] == [f"{stamp(i)}.jpg" for i in (1, 2, 3)]
    (req,) = server.state.api_requests()
    assert req.path == "/api/v1/devices/Aid%201/images/directories/sub%20dir"
    assert req.raw_query == "order_by=ASC&number_of_images=3&skip=1"
    token = server.state.issued[0]
    assert req.headers["Authorization"] == f"bearer {token}"
    assert req.headers["Accept"] == "application/json"
    assert req.headers["Accept-Encoding"] == "identity"
    # the token request: the library's form body, in its order
    (tok,) = [r for r in server.state.requests if r.method == "POST"]
    assert tok.path == "/oauth2/token"
    assert tok.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert tok.body.decode() == (
        "grant_type=client_credentials&client_secret=s3cr3t-Value-%21%40%23-do-not-log"
        "&scope=system&client_id=test-client-id-7f3a"
    )


def test_inference_request_query_order_and_spelling(server, client):
    server.state.results["Aid-1"] = []
    flt = timestamp_filter("20230412140050618")
    assert client.get_inference_results("Aid-1", filter=flt, number_of_inference_results=3) == []
    client.get_inference_results("Aid-1", time="20230412140050618", raw=0)
    first, second = server.state.api_requests("results")
    assert first.path == "/api/v1/devices/Aid-1/inferenceresults"
    assert first.raw_query == (
        "NumberOfInferenceresults=3&filter=EXISTS%28SELECT%20VALUE%20i%20FROM%20i%20IN%20c.Inferences"
        "%20WHERE%20i.T%20%3E%3D%20%2220230412140050618%22%29&raw=1"
    )
    assert second.raw_query == "NumberOfInferenceresults=20&raw=0&time=20230412140050618"


_NAME = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=16).filter(
    lambda s: s.strip() and "/" not in s and s not in (".", "..")
)


def test_path_parameters_round_trip():
    srv = ConsoleServer().start()
    try:
        c = make_client(srv)

        @settings(max_examples=40, deadline=None)
        @given(_NAME, _NAME, st.text(min_size=1, max_size=30).filter(str.strip))
        def check(device, sub, flt):
            srv.state.requests.clear()
            srv.state.images[(device, sub)] = [{"name": "20230412140050618.jpg", "contents": "eA=="}]
            assert c.get_images(device, sub)["images"][0]["name"] == "20230412140050618.jpg"
            (req,) = srv.state.api_requests()
            assert urllib.parse.unquote(req.path) == f"/api/v1/devices/{device}/images/directories/{sub}"
            assert "%20" in req.path or " " not in device + sub
            # an unparseable filter comes back as the fake's 400, but it arrives intact
            srv.state.results[device] = []
            with pytest.raises(ConsoleError):
                c.get_inference_results(device, filter="x" + flt)
            assert srv.state.api_requests("results")[-1].query["filter"] == "x" + flt

        check()
    finally:
        srv.stop()


def test_timestamp_filter_forms():
    pre = "EXISTS(SELECT VALUE i FROM i IN c.Inferences WHERE "
    assert timestamp_filter("20230412140050618", "20230412150000000") == (
        pre + 'i.T >= "20230412140050618" AND i.T <= "20230412150000000")'
    )
    assert timestamp_filter("20230412140050618") == pre + 'i.T >= "20230412140050618")'
    assert timestamp_filter(None, 20230412150000000) == pre + 'i.T <= "20230412150000000")'
    assert timestamp_filter() is None
    for bad in ("2023041214005061", "2023041214005061x", "20231312140050618", '2023041214005061"'):
        with pytest.raises(ValueError, match="first_timestamp"):
            timestamp_filter(bad)
    with pytest.raises(TypeError, match="last_timestamp"):
        timestamp_filter(None, 1.5)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda c: c.get_images("", "d"), ValueError, "device_id must not be empty"),
        (lambda c: c.get_images("a", "d", number_of_images=-1), ValueError, "number_of_images must be >= 0"),
        (lambda c: c.get_images("a", "d", skip=-2), ValueError, "skip must be >= 0"),
        (lambda c: c.get_images("a", "d", order_by="up"), ValueError, "order_by must be"),
        (lambda c: c.get_inference_results("a", filter=""), ValueError, "filter must not be empty"),
        (lambda c: c.get_inference_results("a", number_of_inference_results=-1), ValueError, ">= 0"),
        (lambda c: c.get_inference_results("a", raw=2), ValueError, "raw must be 0 or 1"),
        (lambda c: c.get_inference_results("a", time="2023"), ValueError, "time must be 17 digits"),
        (lambda c: c.iter_image_pages("a", "d", page_size=300).__next__(), ValueError, "page_size"),
    ],
)
def test_argument_checks_before_any_request(server, client, call, exc, match):
    with pytest.raises(exc, match=match):
        call(client)
    assert server.state.requests == []


# ------------------------------------------------------------------ tokens


def test_token_is_cached(server, client):
    server.state.results["Aid-1"] = []
    for _ in range(4):
        client.get_inference_results("Aid-1")
    assert server.state.token_requests == 1


def test_token_refreshed_within_180_s_of_expiry(server, client):
    server.state.results["Aid-1"] = []
    client.get_inference_results("Aid-1")
    now = time.time()
    client._clock = lambda: now + 3600 - 200  # 200 s left: still good
    client.get_inference_results("Aid-1")
    assert server.state.token_requests == 1
    client._clock = lambda: now + 3600 - 170  # 170 s left: refresh first
    client.get_inference_results("Aid-1")
    assert server.state.token_requests == 2
    assert server.state.api_requests()[-1].headers["Authorization"] == f"bearer {server.state.issued[-1]}"


def test_short_lived_or_unreadable_tokens_are_fetched_again(server, client):
    server.state.results["Aid-1"] = []
    server.state.token_lifetime = 100  # always within the 180 s margin
    client.get_inference_results("Aid-1")
    client.get_inference_results("Aid-1")
    assert server.state.token_requests == 2
    client._token = "not-a-jwt"
    assert client._needs_token()


def test_jwt_exp_parsing():
    assert _jwt_exp(make_jwt(1234567890)) == 1234567890.0
    assert _jwt_exp("abc") is None
    assert _jwt_exp("a.!!!.c") is None
    bad = base64.urlsafe_b64encode(b'{"exp": "soon"}').decode().rstrip("=")
    assert _jwt_exp(f"x.{bad}.y") is None
    no_exp = base64.urlsafe_b64encode(b'{"sub": 1}').decode().rstrip("=")
    assert _jwt_exp(f"x.{no_exp}.y") is None


def test_401_refreshes_once_and_retries(server, client):
    server.state.results["Aid-1"] = [record(stamp(0), [[1, 2, 3, 4]], 1)]
    client.get_inference_results("Aid-1")
    server.state.revoke_all()  # server-side expiry the client cannot see
    assert len(client.get_inference_results("Aid-1")) == 1
    assert server.state.token_requests == 2
    assert len(server.state.api_requests()) == 3  # ok, 401, ok


def test_persistent_401_raises(server, client):
    server.state.results["Aid-1"] = []
    server.state.token_lifetime = -10  # every token is already expired on the server
    with pytest.raises(ConsoleError) as info:
        client.get_inference_results("Aid-1")
    err = info.value
    assert (err.status, err.code) == (401, "401001")
    assert "Authorization Error" in err.message
    assert len(server.state.api_requests()) == 2  # first try + one retry after a new token
    assert isinstance(err, ValueError)


def test_bad_credentials(server):
    c = ConsoleClient(server.console_endpoint, server.token_endpoint, CLIENT_ID, "wrong-secret-xyz", retries=0)
    with pytest.raises(ConsoleError) as info:
        c.get_images("Aid-1", "d")
    assert (info.value.status, info.value.code) == (401, "invalid_client")
    assert "wrong-secret-xyz" not in str(info.value)
    assert server.state.api_requests() == []


def test_token_reply_without_access_token(server, monkeypatch):
    server.state.faults.append(("/oauth2/token", 200, None, '{"token_type": "Bearer"}'))
    c = make_client(server)
    with pytest.raises(ConsoleError, match="no access_token") as info:
        c.token()
    assert info.value.code == "TokenError"


# ------------------------------------------------------------------ paging


def test_paging_beyond_256(server, client):
    names = [f"{stamp(i)}.jpg" for i in range(600)]
    server.state.images[("Aid-1", "d")] = [{"name": n, "contents": "eA=="} for n in reversed(names)]
    got = [im["name"] for im in client.iter_images("Aid-1", "d")]
    assert got == names
    reqs = server.state.api_requests("images")
    assert [r.query["skip"] for r in reqs] == ["0", "256", "512"]
    assert [r.query["number_of_images"] for r in reqs] == ["256", "256", "256"]
    server.state.requests.clear()
    got = [im["name"] for im in client.iter_images("Aid-1", "d", 300, order_by="DESC")]
    assert got == names[::-1][:300]
    assert [(r.query["number_of_images"], r.query["skip"]) for r in server.state.api_requests()] == [
        ("256", "0"),
        ("44", "256"),
    ]


def test_paging_when_the_server_caps_lower(server, client):
    server.state.max_images_per_call = 100
    names = [f"{stamp(i)}.jpg" for i in range(250)]
    server.state.images[("Aid-1", "d")] = [{"name": n, "contents": "eA=="} for n in names]
    assert [im["name"] for im in client.iter_images("Aid-1", "d")] == names
    assert [r.query["skip"] for r in server.state.api_requests()] == ["0", "100", "200"]


def test_paging_stops_on_empty_directory(server, client):
    server.state.images[("Aid-1", "empty")] = []
    assert list(client.iter_images("Aid-1", "empty")) == []
    assert len(server.state.api_requests()) == 1


# ------------------------------------------------------------------ retries, errors, timeouts


def test_retries_on_429_and_503(server, client):
    server.state.results["Aid-1"] = []
    server.state.faults += [("/api/", 503, None), ("/api/", 429, "0"), ("/oauth2/", 503, None)]
    sleeps: list[float] = []
    client._sleep = sleeps.append
    assert client.get_inference_results("Aid-1") == []
    assert len(server.state.api_requests()) == 3
    assert server.state.token_requests == 1
    # token: one 503 → backoff 0.001; API: 503 → 0.001, then 429 with Retry-After: 0 → 0
    assert sleeps == [0.001, 0.001, 0.0]


def test_retry_after_is_honoured(server):
    c = make_client(server, backoff=0.5)
    server.state.results["Aid-1"] = []
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    server.state.faults += [("/api/", 429, "7"), ("/api/", 503, when), ("/api/", 503, None), ("/api/", 503, "junk")]
    sleeps: list[float] = []
    c._sleep = sleeps.append
    c.retries = 4
    c.get_inference_results("Aid-1")
    assert sleeps[0] == 7.0
    assert 25 <= sleeps[1] <= 30.5
    assert sleeps[2:] == [2.0, 4.0]  # exponential: 0.5 * 2**attempt


def test_retries_exhausted(server):
    c = make_client(server, retries=2)
    server.state.results["Aid-1"] = []
    server.state.faults += [("/api/", 503, "0")] * 3
    with pytest.raises(ConsoleError) as info:
        c.get_inference_results("Aid-1")
    assert (info.value.status, info.value.code, info.value.message) == (
        503,
        "503001",
        "get_inference_results('Aid-1'): Service Unavailable",
    )
    assert len(server.state.api_requests()) == 3


@pytest.mark.parametrize(
    ("setup", "status", "code", "text"),
    [
        (lambda s: None, 404, "404001", "Directory nope of device Aid-1 not found"),
        (lambda s: s.faults.append(("/api/", 403, None)), 403, "403001", "Service Unavailable"),
        (lambda s: s.faults.append(("/api/", 500, None, '{"detail": "boom"}')), 500, "Generic Error", '{"detail": "boom"}'),
        (lambda s: s.faults.append(("/api/", 502, None, "<html>bad gateway</html>")), 502, "Generic Error", "bad gateway"),
    ],
)
def test_error_statuses(server, setup, status, code, text):
    c = make_client(server, retries=0)
    server.state.images[("Aid-1", "d")] = []
    setup(server.state)
    with pytest.raises(ConsoleError) as info:
        c.get_images("Aid-1", "nope" if status == 404 else "d")
    assert (info.value.status, info.value.code) == (status, code)
    assert text in info.value.message and text in str(info.value)


def test_bad_filter_is_a_400(server, client):
    server.state.results["Aid-1"] = []
    with pytest.raises(ConsoleError) as info:
        client.get_inference_results("Aid-1", filter='c.ModelID="x"')
    assert (info.value.status, info.value.code) == (400, "400002")


def test_invalid_json_reply(server, client):
    server.state.faults.append(("/api/", 200, None, "not json"))
    with pytest.raises(ConsoleError, match="not JSON"):
        client.get_inference_results("Aid-1")
    server.state.faults.append(("/api/", 200, None, '{"images": 3}'))
    with pytest.raises(ConsoleError, match="not an images list"):
        client.get_images("Aid-1", "d")


def test_timeout(server):
    c = make_client(server, timeout=0.15, retries=1)
    c.token()
    server.state.delay = 0.6
    sleeps: list[float] = []
    c._sleep = sleeps.append
    t0 = time.perf_counter()
    with pytest.raises(ConsoleError) as info:
        c.get_inference_results("Aid-1")
    assert time.perf_counter() - t0 < 0.55
    assert info.value.status is None and info.value.code == "Timeout"
    assert "no answer within 0.15 s (after 2 attempts)" in info.value.message
    assert sleeps == [0.001]


def test_connection_refused_is_retried_then_raised():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = ConsoleClient(f"http://127.0.0.1:{port}/api/v1", f"http://127.0.0.1:{port}/token", CLIENT_ID,
                      CLIENT_SECRET, retries=2, backoff=0.001)
    sleeps: list[float] = []
    c._sleep = sleeps.append
    with pytest.raises(ConsoleError) as info:
        c.get_images("Aid-1", "d")
    assert info.value.code == "ConnectionError" and info.value.status is None
    assert sleeps == [0.001, 0.002]


def test_redirects_are_not_followed(server, client):
    server.state.faults.append(("/api/", 302, None, ""))
    with pytest.raises(ConsoleError) as info:
        client.get_images("Aid-1", "d")
    assert info.value.status == 302


# ------------------------------------------------------------------ credentials stay secret


def test_credentials_never_logged_or_shown(server, caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="heatcore.io.console")
    c = make_client(server, retries=1)
    server.state.results["Aid-1"] = []
    server.state.faults += [("/api/", 503, "0"), ("/oauth2/", 503, None)]
    c.get_inference_results("Aid-1")
    server.state.revoke_all()
    c.get_inference_results("Aid-1")
    # a server that echoes the credentials back in an error body
    server.state.faults.append(("/api/", 400, None, f'{{"code": "E", "message": "bad {CLIENT_SECRET} {CLIENT_ID}"}}'))
    with pytest.raises(ConsoleError) as info:
        c.get_inference_results("Aid-1")
    wrong = ConsoleClient(server.console_endpoint, server.token_endpoint, CLIENT_ID, CLIENT_SECRET + "x", retries=0)
    with pytest.raises(ConsoleError) as info2:
        wrong.token()
    out = capsys.readouterr()
    import traceback

    shown = "\n".join([caplog.text, out.out, out.err, repr(c), str(c), str(info.value), repr(info.value),
                       info.value.message, str(info2.value), repr(wrong),
                       *traceback.format_exception(info.value), *traceback.format_exception(info2.value)])
    assert "<hidden>" in str(info.value)
    assert caplog.records, "expected some log records to check"
    for secret in secrets_of(server) + [CLIENT_SECRET + "x"]:
        assert secret not in shown
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(c)


# ------------------------------------------------------------------ settings


def write_settings(path: Path, server, drop=(), blank=()) -> Path:
    vals = {
        "console_endpoint": server.console_endpoint,
        "portal_authorization_endpoint": server.token_endpoint,
        "client_secret": CLIENT_SECRET,
        "client_id": CLIENT_ID,
    }
    lines = ["console_access_settings:"]
    for k, v in vals.items():
        if k in drop:
            continue
        lines.append(f'  {k}: "{"  " if k in blank else v}"')
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("CONSOLE_ENDPOINT", "PORTAL_AUTHORIZATION_ENDPOINT", "CLIENT_ID", "CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_settings_yaml(server, tmp_path, clean_env):
    p = write_settings(tmp_path / "console_access_settings.yaml", server)
    c = ConsoleClient.from_settings(p, retries=0)
    assert c.console_endpoint == server.console_endpoint and c.retries == 0
    server.state.results["Aid-1"] = []
    assert c.get_inference_results("Aid-1") == []


def test_settings_fall_back_to_environment(server, tmp_path, clean_env):
    p = write_settings(tmp_path / "s.yaml", server, drop=("client_secret",))
    with pytest.raises(ValueError, match="client_secret is required: not in .*s.yaml and environment variable CLIENT_SECRET is not set"):
        ConsoleClient.from_settings(p)
    clean_env.setenv("CLIENT_SECRET", CLIENT_SECRET)
    server.state.results["Aid-1"] = []
    assert ConsoleClient.from_settings(p).get_inference_results("Aid-1") == []
    # environment only
    clean_env.setenv("CONSOLE_ENDPOINT", server.console_endpoint)
    clean_env.setenv("PORTAL_AUTHORIZATION_ENDPOINT", server.token_endpoint)
    clean_env.setenv("CLIENT_ID", CLIENT_ID)
    assert ConsoleClient.from_settings().get_inference_results("Aid-1") == []
    clean_env.setenv("CLIENT_ID", "   ")
    with pytest.raises(ValueError, match="environment variable CLIENT_ID is blank"):
        ConsoleClient.from_settings()


def test_settings_errors(server, tmp_path, clean_env):
    p = write_settings(tmp_path / "s.yaml", server, blank=("client_secret",))
    with pytest.raises(ValueError, match="console_access_settings.client_secret is required but blank"):
        ConsoleClient.from_settings(p)
    link = tmp_path / "link.yaml"
    link.symlink_to(write_settings(tmp_path / "real.yaml", server))
    with pytest.raises(ValueError, match="symbolic link"):
        ConsoleClient.from_settings(link)
    with pytest.raises(FileNotFoundError, match="not found"):
        ConsoleClient.from_settings(tmp_path / "missing.yaml")
    (tmp_path / "nosection.yaml").write_text("other: 1\n")
    with pytest.raises(ValueError, match="no 'console_access_settings' mapping"):
        ConsoleClient.from_settings(tmp_path / "nosection.yaml")
    ent = write_settings(tmp_path / "ent.yaml", server)
    ent.write_text(ent.read_text() + '  application_id: "abc"\n')
    with pytest.raises(ValueError, match="application_id is set"):
        ConsoleClient.from_settings(ent)
    ent.write_text(ent.read_text().replace('"abc"', '""'))
    assert ConsoleClient.from_settings(ent).console_endpoint == server.console_endpoint
    bad = tmp_path / "bad.yaml"
    bad.write_text(f'console_access_settings:\n  client_secret: "{CLIENT_SECRET}\n  client_id: [\n')
    with pytest.raises(ValueError, match="not valid YAML") as info:
        ConsoleClient.from_settings(bad)
    assert CLIENT_SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"console_endpoint": "http://example.com/api/v1"}, ValueError, "plain http to a non-loopback"),
        ({"console_endpoint": "ftp://example.com"}, ValueError, "must be an http"),
        ({"console_endpoint": "https://u:p@example.com"}, ValueError, "user:password"),
        ({"console_endpoint": " "}, ValueError, "console_endpoint is required"),
        ({"client_secret": ""}, ValueError, "client_secret is required"),
        ({"client_id": None}, TypeError, "client_id must be a string"),
        ({"timeout": 0}, ValueError, "timeout must be"),
        ({"retries": -1}, ValueError, "retries must be >= 0"),
        ({"backoff": float("nan")}, ValueError, "backoff must be"),
        ({"ca_file": "/nonexistent/ca.pem"}, FileNotFoundError, "ca_file not found"),
    ],
)
def test_constructor_checks(kwargs, exc, match):
    args = {
        "console_endpoint": "https://console.example.com/api/v1",
        "portal_authorization_endpoint": "https://auth.example.com/token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    args.update(kwargs)
    with pytest.raises(exc, match=match) as info:
        ConsoleClient(**args)
    assert CLIENT_SECRET not in str(info.value)


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory):
    """A throw-away self-signed certificate for 127.0.0.1 (needs the openssl command)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


def test_tls_is_verified(tls_cert, caplog):
    cert, key = tls_cert
    srv = ConsoleServer(certfile=str(cert), keyfile=str(key)).start()
    try:
        srv.state.results["Aid-1"] = []
        assert srv.token_endpoint.startswith("https://")
        untrusting = make_client(srv)
        sleeps: list[float] = []
        untrusting._sleep = sleeps.append
        with pytest.raises(ConsoleError) as info:
            untrusting.get_inference_results("Aid-1")
        assert info.value.code == "TLSError" and "certificate verify failed" in info.value.message
        assert sleeps == [] and srv.state.requests == []  # not retried, nothing sent
        assert make_client(srv, ca_file=cert).get_inference_results("Aid-1") == []
        with caplog.at_level(logging.WARNING, logger="heatcore.io.console"):
            insecure = make_client(srv, verify=False)
        assert "verification is disabled" in caplog.text
        assert insecure.get_inference_results("Aid-1") == []
    finally:
        srv.stop()


def test_https_defaults():
    c = ConsoleClient("https://console.example.com/api/v1", "http://example.com/t", "i", "s", allow_http=True)
    import ssl

    assert c._ssl.verify_mode == ssl.CERT_REQUIRED and c._ssl.check_hostname


# ------------------------------------------------------------------ the sample's console loader


def test_images_and_metadata_mode(server, client):
    st = server.state
    t = [stamp(i) for i in range(3)]
    colours = [(200, 10, 10), (10, 200, 10), (10, 10, 200)]
    st.images[("Aid-1", "sub")] = [{"name": f"{ts}.jpg", "contents": jpeg_b64(c)} for ts, c in zip(t, colours)]
    st.results["Aid-1"] = [
        record(t[0], [[1, 2, 3, 4], [5, 6, 7, 8]], 100, scores=[0.5, 0.25], classes=[0, 1]),
        record(t[0], [[9, 9, 9, 9]], 50),  # older duplicate: returned later, so not the first match
        record(t[2], [[10, 20, 30, 40]], 90, extra_inferences=[{"T": t[1], "O": "!!"}]),  # only Inferences[0]
        record(stamp(9), [[0, 0, 1, 1]], 200),  # outside the images' range
    ]
    frames, name = load_console_frames({"device_id": "Aid-1", "sub_directory_name": "sub",
                                        "number_of_images": 20}, client=client)
    frames = list(frames)
    assert name == "sub"
    assert all(isinstance(f, Detections) for f in frames)
    assert [f.frame for f in frames] == [0, 1, 2]
    assert [f.timestamp for f in frames] == t
    assert frames[0].xyxy.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert frames[0].scores.tolist() == [0.5, 0.25] and frames[0].class_ids.tolist() == [0, 1]
    assert len(frames[1]) == 0 and frames[1].xyxy.shape == (0, 4)  # unmatched image → empty frame
    assert frames[2].xyxy.tolist() == [[10, 20, 30, 40]]
    for f, c in zip(frames, colours):
        assert f.image.shape == (16, 24, 3) and f.image.dtype == np.uint8
        assert np.abs(f.image.reshape(-1, 3).mean(0) - c).max() < 8  # BGR as stored
    img_req, res_req = server.state.api_requests()
    assert img_req.raw_query == "order_by=ASC&number_of_images=20&skip=0"
    assert res_req.query == {
        "NumberOfInferenceresults": "3",
        "filter": f'EXISTS(SELECT VALUE i FROM i IN c.Inferences WHERE i.T >= "{t[0]}" AND i.T <= "{t[2]}")',
        "raw": "1",
    }


def test_images_mode_pages_beyond_256(server, client, tmp_path, clean_env):
    st = server.state
    jpg = jpeg_b64(size=(4, 4))
    t = [stamp(i) for i in range(300)]
    st.images[("Aid-1", "many")] = [{"name": f"{ts}.jpg", "contents": jpg} for ts in t]
    st.results["Aid-1"] = [record(ts, [[i, i, i + 1, i + 1]], i) for i, ts in enumerate(t) if i % 7]
    (tmp_path / "cfg").mkdir()
    write_settings(tmp_path / "cfg" / "console.yaml", server)
    frames, name = load_console_frames(
        {"setting_path": "cfg/console.yaml", "device_id": "Aid-1", "sub_directory_name": "many",
         "number_of_images": 1000},
        base_dir=tmp_path,
    )
    frames = list(frames)
    assert len(frames) == 300 and name == "many"
    for i, f in enumerate(frames):
        assert f.timestamp == t[i]
        assert f.xyxy.tolist() == ([] if i % 7 == 0 else [[i, i, i + 1, i + 1]])
    kinds = ["images" if "/images/" in r.path else "results" for r in server.state.api_requests()]
    assert kinds == ["images", "images", "results", "results"] or kinds == ["images", "results", "images", "results"]


def test_images_mode_empty_directory(server, client):
    server.state.images[("Aid-1", "empty")] = []
    frames, name = load_console_frames({"device_id": "Aid-1", "sub_directory_name": "empty",
                                        "number_of_images": 20}, client=client)
    assert list(frames) == [] and name == "empty"
    assert len(server.state.api_requests()) == 1  # no inference call: nothing to match


def test_images_mode_is_lazy_after_the_first_page(server, client):
    st = server.state
    st.images[("Aid-1", "d")] = [{"name": f"{stamp(i)}.jpg", "contents": jpeg_b64(size=(2, 2))} for i in range(260)]
    st.results["Aid-1"] = []
    frames, _ = load_console_frames({"device_id": "Aid-1", "sub_directory_name": "d", "number_of_images": 260},
                                    client=client)
    assert len(st.api_requests()) == 1  # first page fetched eagerly only
    next(frames)
    assert len(st.api_requests()) == 2


def test_metadata_only_mode(server, client):
    st = server.state
    t = [stamp(i) for i in range(5)]
    st.results["Aid-1"] = [record(ts, [[i, 0, i + 1, 1]], ts=i) for i, ts in enumerate(t)]
    frames, name = load_console_frames(
        {"device_id": "Aid-1", "sub_directory_name": "", "number_of_inference_results": 3,
         "first_timestamp": t[1], "last_timestamp": t[4]},
        client=client,
    )
    frames = list(frames)
    assert name is None
    # the fake answers newest first; the loader keeps the Console's order (no sorting)
    assert [f.timestamp for f in frames] == [t[4], t[3], t[2]]
    assert [f.xyxy.tolist() for f in frames] == [[[4, 0, 5, 1]], [[3, 0, 4, 1]], [[2, 0, 3, 1]]]
    assert all(f.image is None for f in frames) and [f.frame for f in frames] == [0, 1, 2]
    (req,) = st.api_requests()
    assert req.query["filter"] == f'EXISTS(SELECT VALUE i FROM i IN c.Inferences WHERE i.T >= "{t[1]}" AND i.T <= "{t[4]}")'
    assert req.query["NumberOfInferenceresults"] == "3"


def test_records_without_inferences_are_skipped(server, client):
    st = server.state
    st.results["Aid-1"] = [record(stamp(0), [[1, 1, 2, 2]], ts=5), {"id": "broken", "_ts": 9},
                           {"_ts": 7, "inference_result": {"Inferences": []}}]
    frames, _ = load_console_frames({"device_id": "Aid-1", "number_of_inference_results": 5}, client=client)
    with pytest.warns(RuntimeWarning, match="2 Console inference record"):
        frames = list(frames)
    assert [f.timestamp for f in frames] == [stamp(0)]


def test_metadata_only_placeholders_and_single_bounds(server, client):
    st = server.state
    t = [stamp(i) for i in range(4)]
    st.results["Aid-1"] = [record(ts, [[1, 1, 2, 2]], ts=i) for i, ts in enumerate(t)]
    base = {"device_id": "Aid-1", "number_of_inference_results": 10}
    with pytest.warns(UserWarning, match="placeholder '__last_timestamp__'") as rec:
        frames, _ = load_console_frames({**base, "sub_directory_name": "", "first_timestamp": "__last_timestamp__",
                                         "last_timestamp": "__last_timestamp__"}, client=client)
    assert len(rec) == 2
    assert len(list(frames)) == 4
    assert "filter" not in st.api_requests()[-1].query
    frames, _ = load_console_frames({**base, "first_timestamp": t[2]}, client=client)  # key missing → ""
    assert [f.timestamp for f in frames] == [t[3], t[2]]
    assert st.api_requests()[-1].query["filter"].endswith(f'WHERE i.T >= "{t[2]}")')
    frames, _ = load_console_frames({**base, "sub_directory_name": None, "last_timestamp": int(t[1])}, client=client)
    assert [f.timestamp for f in frames] == [t[1], t[0]]
    assert st.api_requests()[-1].query["filter"].endswith(f'WHERE i.T <= "{t[1]}")')


def test_loader_errors(server, client, tmp_path):
    st = server.state
    st.results["Aid-1"] = [{"_ts": 1, "inference_result": {"Inferences": [{"T": stamp(0), "O": "@@not base64"}]}}]
    frames, _ = load_console_frames({"device_id": "Aid-1", "number_of_inference_results": 1}, client=client)
    with pytest.raises(ValueError, match=f"T={stamp(0)}: O is not valid base64"):
        list(frames)
    st.results["Aid-1"] = [{"_ts": 1, "inference_result": {"Inferences": [
        {"T": stamp(0), "O": base64.b64encode(b"\x01\x02").decode()}]}}]
    frames, _ = load_console_frames({"device_id": "Aid-1", "number_of_inference_results": 1}, client=client)
    with pytest.raises(ValueError, match=f"T={stamp(0)}: malformed ObjectDetectionTop"):
        list(frames)
    st.images[("Aid-1", "d")] = [{"name": f"{stamp(0)}.jpg", "contents": base64.b64encode(b"nope").decode()}]
    frames, _ = load_console_frames({"device_id": "Aid-1", "sub_directory_name": "d", "number_of_images": 1},
                                    client=client)
    with pytest.raises(ValueError, match="not a decodable image"):
        list(frames)
    with pytest.raises(ConsoleError) as info:
        load_console_frames({"device_id": "Aid-1", "sub_directory_name": "nope", "number_of_images": 1},
                            client=client)
    assert info.value.status == 404

    cases = [
        ({"device_id": "Aid-1"}, ValueError, "setting_path is missing"),
        ({"setting_path": "nope.yaml", "device_id": "Aid-1"}, FileNotFoundError, "cannot open"),
    ]
    for settings, exc, match in cases:
        with pytest.raises(exc, match=match):
            load_console_frames(settings, base_dir=tmp_path)
    cases = [
        ({"device_id": "__device_id__"}, ValueError, "device_id is still the placeholder"),
        ({"device_id": ""}, ValueError, "device_id must not be empty"),
        ({"device_id": "A", "sub_directory_name": "__sub_directory_name__"}, ValueError, "placeholder"),
        ({"device_id": "A", "sub_directory_name": "d"}, ValueError, "number_of_images is required"),
        ({"device_id": "A", "sub_directory_name": "d", "number_of_images": "5"}, TypeError, "must be an integer"),
        ({"device_id": "A"}, ValueError, "number_of_inference_results is required"),
        ({"device_id": "A", "number_of_inference_results": 0}, ValueError, "must be >= 1"),
        ({"device_id": "A", "number_of_inference_results": 1, "first_timestamp": "yesterday"}, ValueError,
         "first_timestamp must be 17 digits"),
    ]
    for settings, exc, match in cases:
        with pytest.raises(exc, match=match):
            load_console_frames(settings, client=client)
    with pytest.raises(TypeError, match="mapping"):
        load_console_frames([("device_id", "A")], client=client)
