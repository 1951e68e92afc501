"""Shared helpers for the benchmarks: wall time and the peak memory of a process tree."""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def _children(pid: int) -> list[int]:
    """Every descendant process (a process started from any thread: Dask starts its workers
    from the event loop's thread, not the main one)."""
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            continue
    out = list(kids)
    for k in kids:
        out += _children(k)
    return out


def tree_pss_kb(pid: int | None = None) -> int:
    """Proportional set size of a process and all its descendants, in kB.

    PSS splits pages shared between forked workers among them, so the sum is the memory the
    job really holds (RSS would count shared pages once per process).
    """
    pid = pid or os.getpid()
    return sum(pss_kb(p) for p in [pid, *_children(pid)])


def pss_kb(pid: int) -> int:
    """One process's proportional set size in kB (0 if it just ended)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakMemory:
    """Sample the process tree's PSS in a background thread; ``peak_gb`` after the block."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()

    def sample(self) -> None:
        self.peak_kb = max(self.peak_kb, tree_pss_kb())

    def _run(self):
        while not self._stop.is_set():
            try:
                self.sample()
            except Exception:
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.sample()

    @property
    def peak_gb(self) -> float:
        return self.peak_kb / 1024 / 1024


@contextmanager
def timer(results: dict, key: str):
    t = time.perf_counter()
    yield
    results[key] = round(time.perf_counter() - t, 2)


def save(name: str, results: dict) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


class ProcessPeaks(PeakMemory):
    """The peak PSS of each descendant process (Dask's nannies and workers), sampled."""

    def __init__(self, interval: float = 0.25):
        super().__init__(interval)
        self.peaks: dict[int, int] = {}

    def sample(self) -> None:
        for pid in _children(os.getpid()):
            self.peaks[pid] = max(self.peaks.get(pid, 0), pss_kb(pid))

    def largest_gb(self) -> float:
        """The largest process below us: a worker (nannies and the scheduler are smaller)."""
        return max(self.peaks.values(), default=0) / 1024 / 1024
