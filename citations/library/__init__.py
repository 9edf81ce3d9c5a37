"""The user's whole library (a big .bib, Zotero's database) ranked with the paper's .bib, and the .bib appender.

Data flow: ``sources`` read each source -> ``store`` merges them into one cached ``Library`` -> ``pool`` scores
library entries beside the paper's own -> ``ranking`` merges them into the engine's list -> ``append`` plans (and
the CLI applies) the addition of a chosen entry to the paper's .bib. ``config`` reads the user's configuration.
"""

from __future__ import annotations

from .append import BibEdit, BibTarget, apply_append, plan_append, read_target
from .errors import LibraryError
from .identity import WorkIndex, work_ids
from .keys import generate_key, unique_key
from .sources import Source, parse_source, read_source
from .store import Library, open_library

__all__ = [
    "BibEdit",
    "BibTarget",
    "apply_append",
    "plan_append",
    "read_target",
    "LibraryError",
    "WorkIndex",
    "work_ids",
    "generate_key",
    "unique_key",
    "Source",
    "parse_source",
    "read_source",
    "Library",
    "open_library",
]
