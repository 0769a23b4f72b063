"""The demo county's results, column by column, against stored digests.

Any change to the code that moves a verdict, a reason, a fact or a fragment of the bundled
demo county fails here, naming the table and the column. A change that is meant to move
them regenerates the digests (``python tests/test_golden.py --write``) and says why in its
commit message.

Digests are kept twice: bit for bit (compared only when GEOS, PROJ, numpy and pandas are the
versions the digests were written with, since another GEOS may move areas in the last bits)
and with floats and coordinates rounded to 1e-6 (always compared).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

import landcheck
from landcheck.testing import AS_OF, SAMPLES, column_digests

STORED = Path(__file__).resolve().parent / "data" / "demo_digests.json"
SUBJECTS = ("projects", "temporary_land", "temporary_footprints", "development_plans")


def _versions() -> dict[str, str]:
    return {"geos": shapely.geos_version_string, "proj": pyproj.proj_version_str,
            "numpy": np.__version__, "pandas": pd.__version__}


def _tables() -> dict[str, pd.DataFrame]:
    config = SAMPLES / "county.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = landcheck.screen(None, config, reference_date=AS_OF)
        tables = {"verdicts": result.verdicts, "fragments": result.fragments,
                  "facts": result.facts, "fired": result.fired}
        for subject in SUBJECTS:
            checked = landcheck.check(subject, config, reference_date=AS_OF)
            tables[f"{subject}.verdicts"] = checked.verdicts
            tables[f"{subject}.fragments"] = checked.fragments
    return tables


def _digests() -> dict:
    tables = _tables()
    return {
        "versions": _versions(),
        "exact": {name: column_digests(t) for name, t in tables.items()},
        "rounded": {name: column_digests(t, decimals=6) for name, t in tables.items()},
    }


@pytest.fixture(scope="module")
def digests():
    return _digests()


@pytest.fixture(scope="module")
def stored():
    return json.loads(STORED.read_text(encoding="utf-8"))


def _compare(now: dict, then: dict) -> list[str]:
    problems = []
    for table in sorted(set(now) | set(then)):
        a, b = now.get(table, {}), then.get(table, {})
        if list(a) != list(b):
            problems.append(f"{table}: columns differ: now {list(a)}, stored {list(b)}")
            continue
        problems += [f"{table}.{col}" for col in a if a[col] != b[col]]
    return problems


def test_rounded_digests_match(digests, stored):
    problems = _compare(digests["rounded"], stored["rounded"])
    assert not problems, f"demo county results changed: {problems}"


def test_exact_digests_match(digests, stored):
    if digests["versions"] != stored["versions"]:
        pytest.skip(f"the exact digests were written with {stored['versions']} and this "
                    f"environment has {digests['versions']}: another GEOS or PROJ may move "
                    "areas in the last bits, so only the rounded digests are compared here")
    problems = _compare(digests["exact"], stored["exact"])
    assert not problems, f"demo county results changed in the last bits: {problems}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_golden.py --write")
    STORED.write_text(json.dumps(_digests(), indent=1, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    print(f"wrote {STORED}")
