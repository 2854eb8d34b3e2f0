"""Continuous ingestion: recordings announced on Kafka and fetched from Kerberos Vault (or
dropped in a folder), heatmaps kept up to date per camera and time slice, each recording counted
exactly once (see ``heatcore watch`` and the README's "Running as a service").

Layout of the output folder: ``ledger/`` (the exactly-once checkpoint: per camera and slice one
file with the accumulator and the keys counted in it; ``failures.json``), ``status.json`` (counters, failures, retry list, last
error, lag), ``<camera>/<slice start, UTC>.npz`` (each slice's accumulator, loadable with
:func:`heatcore.load_state`) and, for motion, ``<camera>/<slice>.png``.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..limits import clip
from .job import JobConfig, load_job
from .ledger import Ledger, safe_name
from .process import RecordingError, camera_from_key, process_recording, slice_of
from .status import Status, read_status
from .vault import DownloadError, VaultClient, vault_credentials

__all__ = ["watch", "Watcher", "JobConfig", "load_job", "Ledger", "Status", "read_status", "VaultClient",
           "DownloadError", "vault_credentials", "process_recording", "camera_from_key", "slice_of",
           "slice_label"]

log = logging.getLogger("heatcore.ingest")


def slice_label(start: int) -> str:
    """File-name label of a slice: its UTC start, ``2026-11-30T100000Z``."""
    return time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime(int(start)))


_safe = safe_name


class Watcher:
    """Handles recordings one at a time: skip duplicates, fetch, process, merge into the
    ledger, checkpoint (durable before returning), rewrite outputs every N recordings / M
    minutes. ``stop`` is set by SIGTERM/SIGINT (the current recording is finished first)."""

    def __init__(self, cfg: JobConfig, output: str | os.PathLike[str], *, quiet: bool = True) -> None:
        self.cfg = cfg
        self.out = Path(output)
        self.out.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(self.out / "ledger")
        self.status = Status(self.out / "status.json")
        # the ledger is the truth (a kill may come between the ledger and the status file)
        self.status.data["failed"] = {k: clip(str(v), 500) for k, v in self.ledger.failed.items()}
        self.status.data["retry"] = {k: clip(str(v.get("error")), 500) for k, v in self.ledger.retry.items()}
        self.quiet = quiet
        self.stop = False
        self._event = threading.Event()
        # after a restart, slices whose outputs are missing or older than the ledger (a kill came
        # before they were written) are rewritten
        self._dirty: set[tuple[str, int]] = {k for k in self.ledger.slices() if self._stale(*k)}
        self._since_write = 0
        self._last_write = time.monotonic()

    def _output(self, camera: str, s: int) -> Path:
        return self.out / _safe(camera) / slice_label(s)

    def _stale(self, camera: str, s: int) -> bool:
        out = self._output(camera, s).with_suffix(".npz")
        try:
            return out.stat().st_mtime_ns < self.ledger.path_of(camera, s).stat().st_mtime_ns
        except OSError:
            return True

    # -- control ---------------------------------------------------------------------------------
    def request_stop(self, *_: Any) -> None:
        self.stop = True
        self._event.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` (woken by a stop request); True when stopping."""
        self._event.wait(max(0.0, seconds))
        return self.stop

    def _say(self, text: str) -> None:
        log.info(text)
        if not self.quiet:
            print(f"heatcore watch: {text}", flush=True)

    # -- one recording ---------------------------------------------------------------------------
    def handle(self, key: str, camera: str, fetch: Callable[[], tuple[Path, bool]],
               metadata: dict[str, Any] | None = None, announced: float | None = None,
               message: Any = None) -> str:
        """Process one recording; returns "processed", "duplicate", "failed" or "parked". The
        ledger (and status) are on disk when it returns."""
        if self.ledger.seen(key):
            self._say(f"{key}: already counted, skipped")
            self.status.duplicate(key)
            self.status.write()
            return "duplicate"
        try:
            s = slice_of(key, self.cfg.slice_seconds, metadata)
        except RecordingError as exc:
            return self._fail(key, str(exc))
        try:
            path, remove = fetch()
        except DownloadError as exc:
            if not exc.retryable:
                return self._fail(key, str(exc))
            self.ledger.park(key, str(exc), message)
            self.ledger.save()
            self.status.parked(key, str(exc))
            self.status.write()
            self._say(f"{key}: download failed, parked in the retry list: {exc}")
            return "parked"
        try:
            acc = process_recording(path, self.cfg, camera)
        except RecordingError as exc:
            return self._fail(key, str(exc))
        except (ValueError, TypeError) as exc:
            if "job configuration" in str(exc):
                raise  # the configuration is wrong for this camera: stop, do not skip recordings
            return self._fail(key, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a decoder crash on one file must not stop the service
            if isinstance(exc, (MemoryError, KeyboardInterrupt)):
                raise
            return self._fail(key, f"{type(exc).__name__}: {exc}")
        finally:
            if remove:
                try:
                    os.unlink(path)
                except OSError:
                    pass
        self.ledger.add(key, camera, s, acc)
        self.ledger.save()
        lag = None if announced is None else time.time() - announced
        self.status.processed(key, lag)
        self.status.write()
        self._dirty.add((camera, s))
        self._since_write += 1
        self._say(f"{key}: counted for {camera} {slice_label(s)}")
        return "processed"

    def _fail(self, key: str, error: str) -> str:
        log.error("recording %s failed: %s", key, error)
        self.ledger.fail(key, error)
        self.ledger.save()
        self.status.failed(key, error)
        self.status.write()
        if not self.quiet:
            print(f"heatcore watch: {key}: failed: {error}", flush=True)
        return "failed"

    def handle_message(self, m: dict[str, Any], vault: VaultClient, tmpdir: str | None = None) -> str:
        """A parsed Kafka message (see :func:`heatcore.ingest.kafka.parse_message`)."""
        key = m["key"]

        def fetch() -> tuple[Path, bool]:
            return vault.download(key, m["provider"], m["file_size"], directory=tmpdir), True

        camera = camera_from_key(key, m["metadata"])
        return self.handle(key, camera, fetch, metadata=m["metadata"], announced=m.get("date"), message=m)

    def retry_parked(self, vault: VaultClient) -> None:
        """Try the recordings in the retry list again (at start-up)."""
        for key, item in sorted(self.ledger.retry.items()):
            if self.stop:
                break
            m = item.get("message")
            if self.ledger.seen(key):  # counted just before a kill, the retry list not yet rewritten
                self.ledger.retry.pop(key, None)
                self.ledger._failures_dirty = True
                self.ledger.save()
                continue
            if isinstance(m, dict) and "key" in m:
                self._say(f"{key}: retrying a parked download")
                self.handle_message(m, vault)

    # -- outputs ---------------------------------------------------------------------------------
    def tick(self) -> None:
        """Rewrite outputs when N recordings or M minutes have passed since the last write."""
        if self._dirty and (self._since_write >= self.cfg.write_every_recordings
                            or time.monotonic() - self._last_write >= self.cfg.write_every_seconds):
            self.write_outputs()

    def write_outputs(self, everything: bool = False) -> list[Path]:
        """Write ``<camera>/<slice>.npz`` (and a PNG for motion) of the changed slices, atomically."""
        todo = sorted(self._dirty) if not everything else self.ledger.slices()
        written: list[Path] = []
        for cam, s in todo:
            acc = self.ledger.accumulator(cam, s)
            if acc is None:
                continue
            base = self._output(cam, s)
            written.append(acc.save(base.with_suffix(".npz")))
            if acc.kind == "motion":
                from ..motion import save_picture

                png = base.with_suffix(".png")
                tmp = png.with_name("." + png.stem + ".tmp.png")
                try:
                    save_picture(acc, tmp)  # type: ignore[arg-type]
                    os.replace(tmp, png)
                    written.append(png)
                finally:
                    if tmp.exists():
                        tmp.unlink()
        self._dirty.clear()
        self._since_write = 0
        self._last_write = time.monotonic()
        return written


def watch(*, folder: str | os.PathLike[str] | None = None, kafka: str | None = None, topic: str | None = None,
          group: str = "heatcore", vault: str | VaultClient | None = None,
          config: str | os.PathLike[str] | dict[str, Any] | JobConfig | None = None,
          output: str | os.PathLike[str] | None = None, quiet: bool = True, poll: float = 1.0,
          idle_exit: float | None = None, kafka_options: dict[str, Any] | None = None,
          handle_signals: bool = True) -> Watcher:
    """Run the ingestion service until SIGTERM/SIGINT (or ``idle_exit`` seconds without new
    recordings): ``folder`` mode, or ``kafka`` (bootstrap servers) + ``topic`` + ``vault`` (URL,
    credentials from the environment / settings file, or a :class:`VaultClient`). Returns the
    :class:`Watcher` (its ``ledger`` holds the accumulators per camera and slice)."""
    cfg = config if isinstance(config, JobConfig) else load_job(config)
    out = Path(output) if output is not None else cfg.output
    if out is None:
        raise ValueError("no output folder: give output= (-o) or 'output' in the job configuration")
    if (folder is None) == (kafka is None):
        raise ValueError("give exactly one source: a folder, or kafka bootstrap servers with a topic")
    client: VaultClient | None = None
    if kafka is not None:
        if not topic:
            raise ValueError("Kafka mode needs a topic")
        if vault is None:
            vault = cfg.vault.get("url")
        if vault is None:
            raise ValueError("Kafka mode needs the Vault URL (--vault URL or vault.url in the job configuration)")
        if isinstance(vault, VaultClient):
            client = vault
        else:
            settings = cfg.vault.get("settings")
            if settings is not None and not Path(str(settings)).is_absolute():
                settings = cfg.base_dir / str(settings)
            ak, sk = vault_credentials(settings)
            opts = {k: v for k, v in cfg.vault.items() if k in ("mode", "max_bytes", "retries", "backoff",
                                                                 "max_backoff", "timeout")}
            client = VaultClient(str(vault), ak, sk, **opts)
    w = Watcher(cfg, out, quiet=quiet)
    old: dict[Any, Any] = {}
    if handle_signals and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            old[sig] = signal.signal(sig, w.request_stop)
    try:
        if folder is not None:
            from .folder import watch_folder

            watch_folder(w, folder, poll=poll, idle_exit=idle_exit)
        else:
            from .kafka import watch_kafka

            assert client is not None and topic is not None and kafka is not None
            w.retry_parked(client)
            watch_kafka(w, kafka, topic, client, group=group, options=kafka_options, idle_exit=idle_exit)
    finally:
        w.write_outputs()
        w.status.write()
        for sig, h in old.items():
            signal.signal(sig, h)
    return w
