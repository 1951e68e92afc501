"""The Dask cluster a district runs on: a LocalCluster sized to the machine, or an existing
scheduler (``--scheduler ADDRESS`` or ``MENTORLIB_DASK_SCHEDULER``)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator

from distributed import Client, LocalCluster

from ..errors import InputError

ENV_SCHEDULER = "MENTORLIB_DASK_SCHEDULER"


def dashboard_available() -> bool:
    """Whether this Python can serve the Dask dashboard (it needs bokeh)."""
    return importlib.util.find_spec("bokeh") is not None


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None, workers: int | None = None, *, memory_limit: str | None = None
) -> Iterator:
    """A ``distributed.Client``: to ``scheduler`` (or ``MENTORLIB_DASK_SCHEDULER``) when given,
    else to a new LocalCluster of ``workers`` processes of one thread each (default: one per
    core, memory split between them), closed on exit."""
    address = scheduler or os.environ.get(ENV_SCHEDULER) or None
    if address is not None:
        if workers is not None:
            raise InputError("--workers applies to the local cluster only, not with --scheduler")
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise InputError(f"cannot reach the Dask scheduler at {address} ({e})") from None
        with client:
            yield client
        return
    if workers is not None and not 1 <= workers <= 256:
        raise InputError(f"--workers {workers}: give a number from 1 to 256")
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0" if dashboard_available() else None,
        memory_limit=memory_limit or "auto",
        silence_logs=logging.CRITICAL,
    )
    with cluster, Client(cluster) as client:
        yield client


def dashboard_line(client) -> str:
    """Where to watch the run (the dashboard link, or why there is none)."""
    if not dashboard_available():
        return "Dask dashboard: not served (install bokeh>=3.1 to watch the run)"
    link = getattr(client, "dashboard_link", None)
    return f"Dask dashboard: {link}" if link else "Dask dashboard: not available"
