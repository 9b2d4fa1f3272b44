"""Regression pins: the numbers nsijax gives today on the bundled data (tests/regression/pins.json),
to 1e-6 relative. A failing pin means the physics changed: if on purpose, regenerate the pins
(``python -m tests.regression.update_pins [--slow]``) in a commit that says why.
"""

import json
import math
import pathlib

import pytest

from tests.regression import quantities as q

PINS = json.loads(pathlib.Path(__file__).with_name("pins.json").read_text())


def _compare(group: str, got: dict[str, float]) -> None:
    pinned = PINS[group]
    assert set(got) == set(pinned), f"pinned keys changed: {sorted(set(got) ^ set(pinned))}"
    bad = []
    for k, v in got.items():
        o = pinned[k]
        if math.isnan(o) and math.isnan(v):
            continue
        if not abs(v - o) <= q.REL_TOL * abs(o) + q.ABS_TOL:
            bad.append(f"{k}: pinned {o!r}, now {v!r} (rel {abs(v - o) / max(abs(o), 1e-300):.2e})")
    assert not bad, "\n".join(bad)


def test_chi2_of_every_bundled_experiment_at_fixed_points():
    assert set(PINS["inputs"]["experiments"]) == set(q.EXPERIMENTS), "a bundled experiment has no pins"
    _compare("chi2", q.chi2_values())


def test_fitted_cevns_counts():
    _compare("cevns_counts", q.cevns_counts())


@pytest.mark.slow
def test_main_job_intervals_and_limits():
    _compare("main_job", q.main_job_values())
