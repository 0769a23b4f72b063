"""The case workflow's vocabulary: review stages, case statuses, rectification methods and
evidence kinds, each a code with its Chinese name. A ledger stores the codes and keeps its
vocabulary in its ``settings`` table, so every writer of one file uses the same words."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from landcheck.errors import LedgerError

__all__ = ["DEFAULT_WORKFLOW", "Workflow"]

#: Review stages, county evidence → city → province (provincial 卫片 platforms' words).
STAGES = (
    ("pending", "未处理"), ("filled", "已填报"), ("submitted", "已提交"),
    ("city_review", "市级待审核"), ("province_review", "省级待审核"), ("returned", "已打回"),
    ("reviewed", "审核结束"),
)
#: Case statuses: open, under appeal (异议), closed (销号).
STATUSES = (("open", "在办"), ("appeal", "异议"), ("closed", "销号"))
#: Rectification methods (DOMAIN.md §8).
METHODS = (("demolish_restore", "拆除复耕"), ("approval", "补办手续"),
           ("demolish_and_approval", "拆补组合"), ("not_rectified", "未整改"),
           ("other", "其他"))
#: Evidence kinds (举证).
EVIDENCE = (("photo", "现场照片"), ("approval", "批准文件"), ("contract", "合同"),
            ("filing", "备案文件"), ("transfer", "移交函"), ("document", "其他文件"),
            ("overlay", "叠加分析结果"))


@dataclass(frozen=True)
class Workflow:
    """Codes and Chinese names of stages, statuses, methods and evidence kinds.

    ``final_stage`` is the stage that ends review (a case closes only there);
    ``first_stage`` and ``open_status`` are what a new case gets; ``closed_status`` is 销号.
    """

    stages: tuple = STAGES
    statuses: tuple = STATUSES
    methods: tuple = METHODS
    evidence: tuple = EVIDENCE
    first_stage: str = "pending"
    final_stage: str = "reviewed"
    open_status: str = "open"
    closed_status: str = "closed"
    _names: dict = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        names = {}
        for kind in ("stages", "statuses", "methods", "evidence"):
            pairs = tuple(tuple(p) for p in getattr(self, kind))
            object.__setattr__(self, kind, pairs)
            names[kind] = dict(pairs)
        object.__setattr__(self, "_names", names)
        for kind, code in (("stages", self.first_stage), ("stages", self.final_stage),
                           ("statuses", self.open_status), ("statuses", self.closed_status)):
            if code not in names[kind]:
                raise LedgerError(f"workflow: {code!r} is not one of the {kind}: "
                                  f"{', '.join(names[kind])}")

    def code(self, kind: str, value: str, *, where: str = "") -> str:
        """The code of ``value`` (a code or its Chinese name) in vocabulary ``kind``."""
        table = self._names[kind]
        if value in table:
            return value
        for code, zh in table.items():
            if zh == value:
                return code
        known = ", ".join(f"{c} ({z})" for c, z in table.items())
        what = {"stages": "stage", "statuses": "status", "methods": "rectification method",
                "evidence": "evidence kind"}[kind]
        raise LedgerError(f"{where}{value!r} is not a known {what}; use one of: {known}")

    def zh(self, kind: str, code) -> str | None:
        return self._names[kind].get(code, code)

    def to_json(self) -> str:
        return json.dumps({k: getattr(self, k) for k in (
            "stages", "statuses", "methods", "evidence", "first_stage", "final_stage",
            "open_status", "closed_status")}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Workflow:
        return cls(**json.loads(text))


DEFAULT_WORKFLOW = Workflow()
