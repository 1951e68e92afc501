"""Copy the two data sets the mixed-model tests fit, and the lme4 numbers they are checked against.

Run once (``python tests/results/make_statsmodels_data.py``) with statsmodels installed; the
tests read only the files this writes, never statsmodels' installed test folder.

Where the numbers come from
---------------------------
``statsmodels_dietox.csv``
    R package geepack's ``dietox`` (pig weights over 12 weeks; Lauridsen et al. 1999), as
    statsmodels ships it for its own lme4 comparisons
    (``statsmodels/regression/tests/results/dietox.csv``). The lme4 reference fits are in
    ``lme4_dietox.json`` beside this script.
``statsmodels_pastes.csv``
    R package lme4's ``Pastes`` (paste strength by batch and cask; Davies & Goldsmith 1972), as
    statsmodels ships it (``statsmodels/regression/tests/results/pastes.csv``).
``lme4_pastes.json``
    ``lmer(strength ~ (1|batch) + (1|batch:cask), Pastes)`` (REML) as printed by R and copied
    into statsmodels' ``test_lme.py::TestMixedLM::test_pastes_vcomp`` (4 significant digits,
    asserted there at rtol 1e-3).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import statsmodels

HERE = Path(__file__).resolve().parent
SOURCE = Path(statsmodels.__file__).resolve().parent / "regression" / "tests" / "results"

PASTES = {
    "provenance": {
        "what": "Reference fit of a linear mixed model by R's lme4::lmer on the Pastes data "
        "(lme4): strength by batch and cask within batch.",
        "source": "statsmodels' test suite, which copies these lme4 numbers beside the data: "
        "statsmodels/regression/tests/test_lme.py, TestMixedLM::test_pastes_vcomp; statsmodels "
        f"{statsmodels.__version__}.",
        "data": "statsmodels_pastes.csv (copied by make_statsmodels_data.py)",
        "r_code": [
            "library(lme4); data(Pastes)",
            "r = lmer(strength ~ (1|batch) + (1|batch:cask), data=Pastes)",
            "fixef(r); sqrt(diag(vcov(r))); VarCorr(r)$batch[[1]]; attr(VarCorr(r), 'sc')^2",
        ],
        "precision": "4 significant digits as printed by R; statsmodels asserts rtol 1e-3.",
    },
    "reml": {
        "fixed": {"Intercept": 60.0533},
        "se": {"Intercept": 0.6769},
        "batch_variance": 1.657,
        "residual_variance": 0.678,
    },
}


def main() -> None:
    for name in ("dietox", "pastes"):
        shutil.copyfile(SOURCE / f"{name}.csv", HERE / f"statsmodels_{name}.csv")
    text = json.dumps(PASTES, indent=2, ensure_ascii=False) + "\n"
    (HERE / "lme4_pastes.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
