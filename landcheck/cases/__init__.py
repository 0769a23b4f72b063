"""Cases across rounds (案件台账): a ledger file that follows each place through the rounds of
patches, with review workflow, evidence, rectification and an append-only history.

See ``docs/cases.md``; the Excel ledger of one run is :mod:`landcheck.report.ledger`.
"""

from landcheck.cases.identity import ATTACH_DISTANCE_M, ATTACH_OVERLAP
from landcheck.cases.ledger import CASE_COLUMNS, UPDATABLE, ImportReport, Ledger
from landcheck.cases.sql import SCHEMA_VERSION
from landcheck.cases.workflow import DEFAULT_WORKFLOW, Workflow

__all__ = ["ATTACH_DISTANCE_M", "ATTACH_OVERLAP", "CASE_COLUMNS", "DEFAULT_WORKFLOW",
           "SCHEMA_VERSION", "UPDATABLE", "ImportReport", "Ledger", "Workflow"]
