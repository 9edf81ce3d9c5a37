"""The citation audit behind ``startref check`` and ``POST /v1/check``: findings as plain data.

``check_document`` loads a document and its bibliography and returns an ``AuditReport``; each ``Finding`` carries
file/line/column, severity, a stable code, a message and the replacement that would fix it, so the CLI, the HTTP
server and the language server only translate. Nothing here writes a file.
"""

from startref.citations.audit.check import audit, check_document, miscitation_finding
from startref.citations.audit.document import AuditDocument, document_from_text, load_document
from startref.citations.audit.findings import (
    CODES,
    SEVERITIES,
    AuditReport,
    Finding,
    Location,
    Related,
    Replacement,
    group_by_file,
    severity_rank,
    worst,
)
from startref.citations.audit.identity import SameWork, same_work_groups, same_work_map
from startref.citations.audit.miscitation import SENSITIVITIES, THRESHOLDS, KeyScore, is_flagged, score_citations

__all__ = [
    "check_document",
    "audit",
    "miscitation_finding",
    "AuditDocument",
    "load_document",
    "document_from_text",
    "CODES",
    "SEVERITIES",
    "SENSITIVITIES",
    "THRESHOLDS",
    "AuditReport",
    "Finding",
    "Location",
    "Related",
    "Replacement",
    "group_by_file",
    "severity_rank",
    "worst",
    "SameWork",
    "same_work_groups",
    "same_work_map",
    "KeyScore",
    "is_flagged",
    "score_citations",
]
