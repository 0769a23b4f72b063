"""A hypothesis state machine over the case ledger: rounds (with re-issued ids and
re-imports), stage updates, rectifications and closures. After every step every imported
clue id is in exactly one case, no case is lost, and each case's unrectified area is its
illegal area minus what was rectified on it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from landcheck.cases import Ledger
from landcheck.errors import LedgerError
from landcheck.testing import rect
from tests.test_cases import write_round

PLACES = 6  # 20 × 20 m squares 100 m apart: a place never overlaps another
STAGES = ("pending", "filled", "submitted", "returned", "reviewed")


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="cases-sm-"))
        self.led = Ledger.init(self.dir / "cases.gpkg")
        self.rounds = 0
        self.last = None
        self.clues: set[str] = set()
        self.cases_seen = 0

    def teardown(self):
        self.led.disconnect()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(places=st.sets(st.integers(0, PLACES - 1), min_size=1),
          alias=st.booleans(), data=st.data())
    def import_round(self, places, alias, data):
        """A round of some places; with ``alias`` each place comes under a round-specific
        id, shifted 1 m (it attaches by overlap to its open case)."""
        self.rounds += 1
        places = sorted(places)
        ids = [f"P{p}" + (f"-r{self.rounds}" if alias else "") for p in places]
        shift = 1.0 if alias else 0.0
        geoms = [rect(100 * p + shift, shift, 100 * p + 20 + shift, 20 + shift) for p in places]
        illegal = [data.draw(st.integers(0, 400), label=f"illegal {i}") for i in ids]
        path = write_round(self.dir / f"r{self.rounds}.gpkg", ids, geoms, illegal,
                           name=f"R{self.rounds}")
        report = self.led.import_round(path, who="sm")
        assert not report.noop and report.patches == len(ids)
        self.clues |= set(ids)
        self.last = path

    @precondition(lambda self: self.last is not None)
    @rule()
    def reimport(self):
        assert self.led.import_round(self.last, who="sm").noop

    def _case(self, data):
        ids = self.led.status()["case_id"].tolist()
        return data.draw(st.sampled_from(ids), label="case")

    @precondition(lambda self: self.last is not None)
    @rule(data=st.data(), stage=st.sampled_from(STAGES))
    def set_stage(self, data, stage):
        self.led.update(self._case(data), who="sm", why="step", stage=stage)

    @precondition(lambda self: self.last is not None)
    @rule(data=st.data(), fraction=st.sampled_from((0.25, 0.5, 1.0, 2.0)))
    def rectify(self, data, fraction):
        case = self.led.show(self._case(data))["case"]
        area = case["unrectified_m2"] * fraction
        if fraction > 1 and area > 0:
            try:
                self.led.add_rectification(case["case_id"], method="拆除复耕", area_m2=area,
                                           who="sm")
            except LedgerError:
                return
            raise AssertionError("an over-claim was accepted")
        left = self.led.add_rectification(case["case_id"], method="其他", area_m2=area,
                                          who="sm")
        assert abs(left - (case["unrectified_m2"] - area)) < 1e-6

    @precondition(lambda self: self.last is not None)
    @rule(data=st.data())
    def close(self, data):
        case = self.led.show(self._case(data))["case"]
        closable = (case["status"] == self.led.workflow.closed_status  # closed: a no-op
                    or (case["unrectified_m2"] <= 1e-6 and case["stage"] == "reviewed"))
        try:
            self.led.close(case["case_id"], who="sm", why="step")
        except LedgerError:
            assert not closable
        else:
            assert closable

    @invariant()
    def every_clue_in_exactly_one_case(self):
        patches = pd.DataFrame(self.led.store.rows(
            "SELECT clue_id, count(DISTINCT case_id) AS n FROM case_patches GROUP BY clue_id"))
        if not self.clues:
            assert patches.empty
            return
        assert set(patches["clue_id"]) == self.clues
        assert (patches["n"] == 1).all()

    @invariant()
    def no_case_lost(self):
        cases = self.led.status()
        assert cases["case_id"].is_unique
        assert len(cases) >= self.cases_seen
        self.cases_seen = len(cases)

    @invariant()
    def areas_reconcile(self):
        cases = self.led.status()
        if cases.empty:
            return
        expected = (cases["illegal_m2"] - cases["rectified_m2"]).clip(lower=0)
        assert (abs(cases["unrectified_m2"] - expected) < 1e-6).all()
        assert abs(cases["rectified_m2"].sum() - self.led.rectified_m2()) < 1e-6
        unclamped = cases["illegal_m2"] >= cases["rectified_m2"]
        part = cases[unclamped]
        assert abs(part["unrectified_m2"].sum()
                   - (part["illegal_m2"].sum() - part["rectified_m2"].sum())) < 1e-6


LedgerMachine.TestCase.settings = settings(max_examples=6, stateful_step_count=25,
                                           deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
