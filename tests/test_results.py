"""The result protocol's JSON helpers: plain values only."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from mentorlib.results import jsonable, plain, records, to_json


def test_plain_turns_missing_and_numpy_into_python():
    assert plain(np.int64(3)) == 3 and type(plain(np.int64(3))) is int
    assert plain(np.float32(0.5)) == 0.5
    assert plain(float("nan")) is None and plain(pd.NA) is None and plain(pd.NaT) is None
    assert plain(np.float64(np.inf)) is None
    assert plain(pd.Timestamp("2024-09-01")) == "2024-09-01T00:00:00"
    assert plain(np.bool_(True)) is True


def test_records_of_a_frame_with_nullable_dtypes():
    df = pd.DataFrame(
        {
            "n": pd.array([1, None], dtype="Int64"),
            "ok": pd.array([True, None], dtype="boolean"),
            "p": [0.25, math.nan],
            "g": pd.Categorical(["a", "b"]),
        }
    )
    assert records(df) == [
        {"n": 1, "ok": True, "p": 0.25, "g": "a"},
        {"n": None, "ok": None, "p": None, "g": "b"},
    ]


class _Toy:
    def to_json_dict(self, *, public: bool = True) -> dict:
        return {"public": public, "t": pd.DataFrame({"x": [np.int64(1)]}), "s": pd.Series({"a": 2})}


def test_to_json_uses_the_protocol_and_needs_no_default():
    out = json.loads(to_json(_Toy(), public=False))
    assert out == {"public": False, "t": [{"x": 1}], "s": {"a": 2}}
    assert jsonable({1: (np.arange(2), {"k": object})})["1"][0] == [0, 1]
