"""heatcore.ingest / heatcore watch: exactly-once ingestion from a folder, or Kafka + Kerberos
Vault, over real protocols on 127.0.0.1 (an http.server Vault, librdkafka's mock cluster)."""

from __future__ import annotations

import http.server
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from heatcore._synthetic import write_synthetic_video
from heatcore.motion import motion_heatmap

ACCESS, SECRET = "ak-test-123", "sk-very-secret-456"
# (start time, camera): two cameras, two hour slices
RECS = [(1616678735, "cam1"), (1616678800, "cam2"), (1616679100, "cam1"), (1616680000, "cam2"),
        (1616682400, "cam1"), (1616682500, "cam2")]


def _name(t: int, cam: str) -> str:
    return f"{t}_6-967003_{cam}_200-200-400-400_24_769.mp4"


@pytest.fixture(scope="module")
def recs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("recs")
    out = {}
    for i, (t, cam) in enumerate(RECS):
        p = write_synthetic_video(d / _name(t, cam), 96, 64, 24, seed=i, fourcc="mp4v")
        out[f"{cam}/{p.name}"] = p
    return out


def _direct(files: dict[str, Path]) -> dict[tuple[str, int], np.ndarray]:
    """The reference: every file through motion_heatmap, summed per camera and hour."""
    ref: dict[tuple[str, int], np.ndarray] = {}
    for key, p in sorted(files.items()):
        t = int(p.name.split("_")[0])
        cam = p.name.split("_")[2]
        r = motion_heatmap(p, "mog").result(normalize=False).astype(np.int64)
        k = (cam, t // 3600 * 3600)
        ref[k] = ref[k] + r if k in ref else r
    return ref


def _ledger_results(out: Path) -> dict[tuple[str, int], np.ndarray]:
    from heatcore.ingest import Ledger

    led = Ledger(out / "ledger")
    return {(c, s): a.result(normalize=False).astype(np.int64)  # type: ignore[call-arg]
            for c, s, a in led.items()}


def _same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=str(k))


JOB = "job: motion\nmotion: {method: mog}\nslice: 1h\nwrite_every: {recordings: 2, minutes: 1}\n" \
      "vault: {retries: 3, backoff: 0.05, timeout: 2}\n"


# -- units ---------------------------------------------------------------------------------------
def test_ledger_roundtrip_and_duplicates(tmp_path: Path, recs: dict[str, Path]) -> None:
    from heatcore.ingest import Ledger

    key, p = sorted(recs.items())[0]
    led = Ledger(tmp_path / "l")
    acc = motion_heatmap(p, "mog")
    assert led.add(key, "cam1", 3600, acc)
    assert not led.add(key, "cam1", 3600, motion_heatmap(p, "mog"))  # counted once
    led.fail("bad.mp4", "moov atom not found")
    led.save()
    assert not list(tmp_path.glob("*.tmp"))
    assert sorted(p.name for p in (tmp_path / "l").rglob("*")) == ["3600.npz", "cam1", "failures.json"]
    again = Ledger(tmp_path / "l")
    assert again.seen(key) and again.seen("bad.mp4") and not again.seen("other")
    np.testing.assert_array_equal(again.accumulator("cam1", 3600).result(normalize=False),  # type: ignore
                                  motion_heatmap(p, "mog").result(normalize=False))
    (tmp_path / "junk" / "cam1").mkdir(parents=True)
    (tmp_path / "junk" / "cam1" / "0.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a heatcore ingest ledger"):
        Ledger(tmp_path / "junk")


def test_job_config_errors(tmp_path: Path) -> None:
    from heatcore.ingest import load_job

    cfg = load_job({"job": "motion", "slice": "15min", "write_every": {"recordings": 3}})
    assert cfg.slice_seconds == 900 and cfg.write_every_recordings == 3
    with pytest.raises(ValueError, match="unknown key.*colour"):
        load_job({"colour": 1})
    with pytest.raises(ValueError, match="job must be one of"):
        load_job({"job": "kde"})
    with pytest.raises(ValueError, match="slice"):
        load_job({"slice": "weekday"})
    with pytest.raises(ValueError, match="floorplan needs 'cameras'"):
        load_job({"job": "floorplan"})
    with pytest.raises(FileNotFoundError):
        load_job(tmp_path / "nope.yaml")
    (tmp_path / "j.yaml").write_text("job: motion\nmotion: &a {method: mog}\nx: *a\n")
    with pytest.raises(ValueError):
        load_job(tmp_path / "j.yaml")


def test_parse_message() -> None:
    from heatcore.ingest.kafka import parse_message

    m = parse_message(json.dumps({"date": 1616678740, "source": "minio", "provider": "minio", "events": ["x"],
                                  "payload": {"key": "cam1/a.mp4", "fileSize": 10,
                                              "metadata": {"event-instancename": "cam1"}}}))
    assert m["key"] == "cam1/a.mp4" and m["provider"] == "minio" and m["file_size"] == 10
    with pytest.raises(ValueError, match="JSON"):
        parse_message(b"{not json")
    with pytest.raises(ValueError, match="payload.key"):
        parse_message(json.dumps({"source": "s", "payload": {"fileSize": 1}}))
    with pytest.raises(ValueError, match="source"):
        parse_message(json.dumps({"payload": {"key": "k.mp4"}}))
    with pytest.raises(ValueError, match="fileSize"):
        parse_message(json.dumps({"source": "s", "payload": {"key": "k.mp4", "fileSize": -3}}))


# -- a Kerberos Vault on 127.0.0.1 ----------------------------------------------------------------
class Vault:
    """Serves ``files`` (key → bytes) at /api/storage/blob after checking the headers; ``faults``
    (key → list of "500" / "429" / "stall" / "truncate", one consumed per request)."""

    def __init__(self, files: dict[str, bytes], legacy: bool = False) -> None:
        self.files = files
        self.faults: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str]] = []
        self.legacy = legacy
        vault = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path
                if path.startswith("/signed/"):
                    key = path[len("/signed/"):]
                    return self._send(key)
                blob = "/storage/blob" if vault.legacy else "/api/storage/blob"
                if path not in (blob, "/api/storage"):
                    self.send_error(404)
                    return
                key = self.headers.get("X-Kerberos-Storage-FileName", "")
                vault.requests.append((path, key))
                if (self.headers.get("X-Kerberos-Storage-AccessKey") != ACCESS
                        or self.headers.get("X-Kerberos-Storage-SecretAccessKey") != SECRET
                        or self.headers.get("X-Kerberos-Storage-Provider") != "minio"):
                    self.send_error(403)
                    return
                if key not in vault.files:
                    self.send_error(404)
                    return
                if path == "/api/storage":
                    body = json.dumps({"data": f"http://127.0.0.1:{vault.port}/signed/{key}"}).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self._send(key)

            def _send(self, key: str) -> None:
                todo = vault.faults.get(key) or []
                fault = todo.pop(0) if todo else None
                data = vault.files[key]
                if fault in ("500", "429"):
                    self.send_response(int(fault))
                    if fault == "429":
                        self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if fault == "stall":
                    self.wfile.write(data[:100])
                    self.wfile.flush()
                    time.sleep(1.5)
                    return
                self.wfile.write(data[: len(data) // 2] if fault == "truncate" else data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def vault(recs: dict[str, Path]):  # type: ignore[no-untyped-def]
    v = Vault({k: p.read_bytes() for k, p in recs.items()})
    yield v
    v.close()


def _client(v: Vault, **kw: object):  # type: ignore[no-untyped-def]
    from heatcore.ingest import VaultClient

    return VaultClient(v.url, **{"access_key": ACCESS, "secret_key": SECRET, "retries": 2, "backoff": 0.01,
                                 "timeout": 0.5, **kw})


def test_vault_download_retries_and_faults(vault: Vault, recs: dict[str, Path], tmp_path: Path) -> None:
    from heatcore.ingest import DownloadError

    key = sorted(recs)[0]
    size = recs[key].stat().st_size
    c = _client(vault)
    p = c.download(key, "minio", size, directory=tmp_path)
    assert p.read_bytes() == recs[key].read_bytes()
    vault.faults[key] = ["500", "429"]
    p2 = c.download(key, "minio", size, directory=tmp_path)        # retried twice, then served
    assert p2.read_bytes() == recs[key].read_bytes() and not vault.faults[key]
    vault.faults[key] = ["truncate", "truncate", "stall"]
    with pytest.raises(DownloadError, match="after 3 attempts"):
        c.download(key, "minio", size, directory=tmp_path)
    vault.faults[key] = ["500", "500", "500"]
    with pytest.raises(DownloadError, match="HTTP 500") as ei:
        c.download(key, "minio", size, directory=tmp_path)
    assert SECRET not in str(ei.value) and SECRET not in repr(c) and ACCESS not in repr(c)
    with pytest.raises(DownloadError, match="fileSize"):
        c.download(key, "minio", size + 1, directory=tmp_path)
    with pytest.raises(DownloadError, match="limit"):
        _client(vault, max_bytes=1000).download(key, "minio", None, directory=tmp_path)
    with pytest.raises(DownloadError, match="HTTP 403"):  # wrong keys: not retried
        _client(vault, secret_key="wrong").download(key, "minio", size, directory=tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted([p.name, p2.name])  # failed attempts leave nothing
    # the signed-URL variant, and the older /storage/blob path
    p3 = _client(vault, mode="signed").download(key, "minio", size, directory=tmp_path)
    assert p3.read_bytes() == recs[key].read_bytes()
    vault.legacy = True
    p4 = c.download(key, "minio", size, directory=tmp_path)
    assert p4.read_bytes() == recs[key].read_bytes()
    assert ("/api/storage/blob", key) not in vault.requests[-1:] and vault.requests[-1] == ("/storage/blob", key)


def test_vault_credentials_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from heatcore.ingest import vault_credentials

    monkeypatch.delenv("HEATCORE_VAULT_ACCESS_KEY", raising=False)
    monkeypatch.delenv("HEATCORE_VAULT_SECRET_KEY", raising=False)
    s = tmp_path / "vault.yaml"
    s.write_text("vault: {access_key: a1, secret_key: s1}\n")
    assert vault_credentials(s) == ("a1", "s1")
    monkeypatch.setenv("HEATCORE_VAULT_ACCESS_KEY", "ea")
    monkeypatch.setenv("HEATCORE_VAULT_SECRET_KEY", "es")
    assert vault_credentials(s) == ("ea", "es")


def test_parked_download_is_retried_at_start(vault: Vault, recs: dict[str, Path], tmp_path: Path) -> None:
    from heatcore.ingest import Watcher, load_job

    key = sorted(recs)[0]
    msg = {"key": key, "provider": "minio", "file_size": recs[key].stat().st_size, "metadata": {}, "date": None}
    from heatcore.limits import load_yaml

    w = Watcher(load_job(load_yaml(JOB)), tmp_path)
    vault.faults[key] = ["500"] * 3
    assert w.handle_message(msg, _client(vault, retries=1)) == "parked"
    st = json.loads((tmp_path / "status.json").read_text())
    assert key in st["retry"] and "HTTP 500" in st["last_error"]["error"] and st["processed"] == 0
    w2 = Watcher(load_job(load_yaml(JOB)), tmp_path)  # a restart: the retry list is in the ledger
    assert key in w2.ledger.retry
    w2.retry_parked(_client(vault))
    assert w2.ledger.seen(key) and not w2.ledger.retry
    assert json.loads((tmp_path / "status.json").read_text())["retry"] == {}


# -- end to end, in subprocesses killed with SIGKILL -------------------------------------------------
def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(HEATCORE_VAULT_ACCESS_KEY=ACCESS, HEATCORE_VAULT_SECRET_KEY=SECRET)
    return env


def _kill_after_first_checkpoint(cmd: list[str], out: Path, rng: random.Random, timeout: float = 60) -> None:
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        while not list((out / "ledger").glob("*/*.npz")):
            assert proc.poll() is None, f"watcher exited early ({proc.returncode})"
            assert time.monotonic() - t0 < timeout, "no checkpoint"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def _run(cmd: list[str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def test_folder_watch_sigkill_restart(recs: dict[str, Path], tmp_path: Path) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    for key, p in recs.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, folder / key)
    (folder / "cam1" / "1616679999_6-967003_cam1_0-0-1-1_1_1.mp4").write_bytes(p.read_bytes()[:3000])  # truncated
    (tmp_path / "job.yaml").write_text(JOB)
    cmd = [sys.executable, "-m", "heatcore", "watch", "--folder", str(folder), "--config", str(tmp_path / "job.yaml"),
           "-o", str(out), "--poll", "0.1", "--quiet"]
    _kill_after_first_checkpoint(cmd, out, random.Random(1))
    _run(cmd + ["--idle-exit", "0.5"])
    _same(_ledger_results(out), _direct(recs))
    st = json.loads((out / "status.json").read_text())
    assert list(st["failed"]) == ["cam1/1616679999_6-967003_cam1_0-0-1-1_1_1.mp4"]
    assert st["restarts"] == 1
    # outputs per camera and slice, loadable
    import heatcore

    for (cam, s), ref in _direct(recs).items():
        from heatcore.ingest import slice_label

        acc = heatcore.load_state(out / cam / f"{slice_label(s)}.npz")
        np.testing.assert_array_equal(acc.result(normalize=False), ref)  # type: ignore[call-arg]
        assert (out / cam / f"{slice_label(s)}.png").stat().st_size > 0
    # a third run sees nothing new and changes nothing
    def snapshot() -> dict[str, tuple[int, bytes]]:
        return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(out.rglob("*")) if p.is_file()
                and p.name != "status.json"}

    before = snapshot()
    _run(cmd + ["--idle-exit", "0.3"])
    assert snapshot() == before


def test_watch_sigterm_exits_zero(recs: dict[str, Path], tmp_path: Path) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    key, p = sorted(recs.items())[0]
    shutil.copy(p, folder / p.name)
    proc = subprocess.Popen([sys.executable, "-m", "heatcore", "watch", "--folder", str(folder), "-o", str(out),
                             "--poll", "0.1", "--quiet"], env=_env(), stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not list((out / "ledger").glob("*/*.npz")) and time.monotonic() - t0 < 60:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert list((out / "cam1").glob("*.npz"))  # outputs written on shutdown


def test_watch_cli_errors(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "heatcore", "watch", "--kafka", "127.0.0.1:1", "-o", str(tmp_path)],
                       capture_output=True, text=True, env=_env())
    assert r.returncode == 2 and "--topic" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run([sys.executable, "-m", "heatcore", "watch", "--folder", str(tmp_path / "nope"), "-o",
                        str(tmp_path)], capture_output=True, text=True, env=_env())
    assert r.returncode == 2 and "nope" in r.stderr


def _message(key: str, size: int, source: str = "minio") -> bytes:
    cam = key.split("/")[0]
    t = key.split("/")[1].split("_")[0]
    return json.dumps({"date": int(time.time()), "source": source, "provider": "minio", "events": ["monitor"],
                       "payload": {"key": key, "fileSize": size,
                                   "metadata": {"event-instancename": cam, "event-timestamp": t}}}).encode()


def test_kafka_vault_sigkill_restart_exactly_once(recs: dict[str, Path], vault: Vault, tmp_path: Path) -> None:
    ck = pytest.importorskip("confluent_kafka")
    from confluent_kafka import TopicPartition

    producer = ck.Producer({"test.mock.num.brokers": 1, "log_level": 0})
    broker = str(next(iter(producer.list_topics(timeout=10).brokers.values())))
    topic, group = "kcloud-event-queue", "heatcore-test"
    keys = sorted(recs)
    bad = "cam2/1616680500_6-967003_cam2_0-0-1-1_1_1.mp4"
    vault.files[bad] = vault.files[keys[1]][:4000]          # a truncated recording, fileSize matching
    vault.faults[keys[1]] = ["500"]                          # fails once, then served
    vault.faults[keys[2]] = ["429"]
    msgs = [_message(k, len(vault.files[k])) for k in keys[:3]]
    msgs += [b"{this is not json", _message(bad, 4000), json.dumps({"source": "minio", "payload": {}}).encode()]
    msgs += [_message(k, len(vault.files[k])) for k in keys[3:]]
    msgs += [_message(keys[0], len(vault.files[keys[0]])), _message(keys[4], len(vault.files[keys[4]]))]  # redelivered
    for m in msgs:
        producer.produce(topic, m)
    producer.flush(10)
    out = tmp_path / "out"
    (tmp_path / "job.yaml").write_text(JOB)
    cmd = [sys.executable, "-m", "heatcore", "watch", "--kafka", broker, "--topic", topic, "--group", group,
           "--vault", vault.url, "--config", str(tmp_path / "job.yaml"), "-o", str(out), "--quiet",
           "--kafka-option", "session.timeout.ms=3000", "--kafka-option", "heartbeat.interval.ms=300",
           "--kafka-option", "log_level=0"]
    _kill_after_first_checkpoint(cmd, out, random.Random(7))
    _run(cmd + ["--idle-exit", "1.5"])
    _same(_ledger_results(out), _direct(recs))
    st = json.loads((out / "status.json").read_text())
    assert list(st["failed"]) == [bad] and "cannot open video" in st["failed"][bad]
    assert st["invalid_messages"] >= 2 and st["skipped_duplicates"] >= 2 and st["retry"] == {}
    assert ("/api/storage/blob", keys[1]) in vault.requests and not vault.faults[keys[1]]
    # every offset is committed (invalid messages and the truncated recording included)
    c = ck.Consumer({"bootstrap.servers": broker, "group.id": group, "log_level": 0})
    try:
        parts = [TopicPartition(topic, p) for p in producer.list_topics(topic, timeout=10).topics[topic].partitions]
        committed = {tp.partition: tp.offset for tp in c.committed(parts, timeout=10)}
        ends = {tp.partition: c.get_watermark_offsets(tp, timeout=10)[1] for tp in parts}
        assert sum(ends.values()) == len(msgs)
        assert {p: o for p, o in committed.items() if ends[p]} == {p: e for p, e in ends.items() if e}
    finally:
        c.close()
    # nothing secret in what the watcher wrote
    for f in out.rglob("*.json"):
        assert SECRET not in f.read_text() and ACCESS not in f.read_text()


def test_grid_and_floorplan_jobs_merge_per_camera_and_hour(recs: dict[str, Path], tmp_path: Path) -> None:
    from heatcore import FloorplanAccumulator, GridCounter
    from heatcore.homography import Homography
    from heatcore.ingest import Watcher, load_job
    from heatcore.jobs import detect_job
    from heatcore.pipeline import run

    keys = [k for k in sorted(recs) if k.startswith("cam1/")][:2]  # same camera, same hour
    grid = {"image_size": [96, 64], "grid": [8, 4], "mode": "point"}
    w = Watcher(load_job({"job": "grid", "grid": grid, "stride": 8}), tmp_path / "g")
    for k in keys:
        assert w.handle(k, "cam1", fetch=lambda k=k: (recs[k], False)) == "processed"
    ref = None
    for k in keys:
        g = run(detect_job(recs[k], "hog", stride=8, accumulators={"grid": GridCounter(**grid)}))["grid"]
        ref = g if ref is None else ref.merge(g)
    (acc,) = w.ledger.cameras["cam1"].values()
    w.ledger._cache.clear()  # from disk too
    np.testing.assert_array_equal(w.ledger.accumulator("cam1", w.ledger.slices()[0][1]).result(),  # type: ignore
                                  ref.result())  # type: ignore[union-attr]
    assert isinstance(acc, GridCounter)
    np.testing.assert_array_equal(acc.result(), ref.result())  # type: ignore[union-attr]
    (tmp_path / "H.json").write_text(json.dumps({"matrix": [[2, 0, 0], [0, 2, 0], [0, 0, 1]]}))
    cfg = load_job({"job": "floorplan", "stride": 8,
                    "cameras": {"cam1": {"homography": str(tmp_path / "H.json"), "plan_size": [192, 128]}}})
    w2 = Watcher(cfg, tmp_path / "f")
    assert w2.handle(keys[0], "cam1", fetch=lambda: (recs[keys[0]], False)) == "processed"
    (plan,) = w2.ledger.cameras["cam1"].values()
    assert isinstance(plan, FloorplanAccumulator) and plan.result().shape == (128, 192)
    # a camera without a homography is a configuration error, not a failed recording
    with pytest.raises(ValueError, match="cam2.*homography"):
        w2.handle(sorted(recs)[1], "cam2", fetch=lambda: (recs[sorted(recs)[1]], False))
    assert isinstance(Homography.from_json(tmp_path / "H.json"), Homography)
