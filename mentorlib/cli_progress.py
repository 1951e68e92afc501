"""The command line's progress bar (shared by :mod:`mentorlib.cli` and its split-off command
modules): a tqdm bar that appears only when the work takes more than two seconds."""

from __future__ import annotations

import sys


class Progress:
    """A tqdm bar that appears only when the work takes more than two seconds."""

    def __init__(self, total: int | None, desc: str, enabled: bool = True):
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=total,
            desc=desc,
            delay=2.0,
            disable=not enabled,
            leave=False,
            file=sys.stderr,
            unit="step",
        )

    def __call__(self, label: str = "") -> None:
        self.bar.set_postfix_str(label[-40:], refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
