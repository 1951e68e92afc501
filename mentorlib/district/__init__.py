"""A district: many schools cleaned and judged in parallel on Dask (issue 17).

:func:`load_district` reads a district folder (``district.toml`` and one study folder per
school, :mod:`.config`); :func:`run_district` runs one task per school on a
``dask.distributed`` cluster and writes each school's processed folder, the district tables as
one hive-partitioned Parquet dataset per table and the per-school verdict rows (:mod:`.run`);
:func:`synth_district` writes a synthetic district with school-level effects in its truth
(:mod:`.synth`).
"""

from __future__ import annotations

from .config import DistrictConfig, School, load_district
from .run import DistrictResult, run_district
from .synth import synth_district

__all__ = [
    "DistrictConfig",
    "DistrictResult",
    "School",
    "load_district",
    "run_district",
    "synth_district",
]
