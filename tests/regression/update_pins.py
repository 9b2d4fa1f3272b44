"""Regenerate tests/regression/pins.json: ``python -m tests.regression.update_pins [--slow]``.

Only in a commit that says why the physics changed (and which values moved).
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib

import jax

jax.config.update("jax_enable_x64", True)

from tests.regression import quantities as q  # noqa: E402

PINS = pathlib.Path(__file__).with_name("pins.json")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--slow", action="store_true", help="also the main job's intervals (about a minute)")
    args = ap.parse_args()
    old = json.loads(PINS.read_text()) if PINS.exists() else {}
    new = {"inputs": q.describe(), "chi2": q.chi2_values(), "cevns_counts": q.cevns_counts()}
    new["main_job"] = q.main_job_values() if args.slow else old.get("main_job", {})
    for group in ("chi2", "cevns_counts", "main_job"):
        for k, v in new[group].items():
            o = old.get(group, {}).get(k)
            if o is None:
                continue
            same = (math.isnan(o) and math.isnan(v)) or abs(v - o) <= q.REL_TOL * abs(o) + q.ABS_TOL
            if not same:
                print(f"{group}/{k}: {o!r} -> {v!r}")
    PINS.write_text(json.dumps(new, indent=1, sort_keys=True, allow_nan=True) + "\n")
    print(f"wrote {PINS}")


if __name__ == "__main__":
    main()
