"""Helpers shared by the fuzz tests: snapshot a folder tree, run the CLI in-process with a time
bound, the exceptions heatcore documents for bad input."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

#: What bad input may raise through the public API (a clear error naming the value).
DOCUMENTED = (ValueError, TypeError, FileNotFoundError)


def tree(root: Path) -> set[str]:
    """Every path under ``root`` (files, folders, links), relative, as text."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def outside(parent: Path, before: set[str], out: Path) -> set[str]:
    """Paths created under ``parent`` since ``before`` that are not inside ``out``."""
    rel_out = os.path.relpath(out, parent)
    new = tree(parent) - before
    return {p for p in new if not (p == rel_out or p.startswith(rel_out + os.sep))}


class Hang(AssertionError):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail with :class:`Hang` when the body runs longer than ``seconds`` (main thread: SIGALRM)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        t0 = time.monotonic()
        yield
        if time.monotonic() - t0 > seconds:
            raise Hang(f"took {time.monotonic() - t0:.1f} s (limit {seconds} s)")
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"did not finish within {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_cli(argv: list[str], seconds: float = 20.0) -> tuple[int, str, str]:
    """``heatcore.cli.main(argv)`` in-process: (exit code, stdout, stderr). argparse errors give 2."""
    import heatcore._core  # noqa: F401 - an editable install rebuilds on first import, writing to the real stdout
    from heatcore.cli import main

    out, err = io.StringIO(), io.StringIO()
    with time_limit(seconds), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def api_call(fn: Callable[[], Any], seconds: float = 10.0) -> tuple[str, Any]:
    """("ok", result) or ("error", exception) for documented exceptions; anything else propagates."""
    with time_limit(seconds):
        try:
            return "ok", fn()
        except DOCUMENTED as exc:
            return "error", exc


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
data_source_settings: {mode: *h}
"""
