"""Everything that knows LaTeX: cite commands, cursor context, outline, plain text, bibliography discovery.

This package never imports ``startref.citations`` or ``startref.server`` (tests/latex/test_package.py keeps it so);
it returns plain data (offsets, spans, paths) that the ranking engine, the CLI and the server translate.
"""

from .cites import CiteCommand, comment_spans, find_cites, ignored_spans, in_spans, strip_cites
from .commands import DEFAULT_CITE_SYNTAX, CiteSyntax, syntax_with_user_wrappers
from .context import CursorContext, cursor_context, dominant_command, insertion_for, separator_style
from .discovery import BibliographyDiscovery, discover_bibliographies, find_root
from .flatten import FlatDocument, FlatPiece, flatten_document
from .inputs import bibinputs_dirs
from .errors import LatexInputError
from .placeholders import Placeholder, find_placeholders
from .plaintext import MATH_PLACEHOLDER, galactica_ref, to_plain_text
from .position import line_col_from_offset, line_of_offset, lsp_from_offset, offset_from_line_col, offset_from_lsp
from .quicktext import quick_text
from .sections import Heading, Outline, headings, outline_at
from .source import SourceText, check_text, decode_tex_bytes, read_tex, tex_error_code

__all__ = [
    # errors
    "LatexInputError",
    # source
    "SourceText",
    "read_tex",
    "decode_tex_bytes",
    "check_text",
    "tex_error_code",
    # position
    "offset_from_line_col",
    "offset_from_lsp",
    "line_col_from_offset",
    "line_of_offset",
    "lsp_from_offset",
    # commands
    "CiteSyntax",
    "DEFAULT_CITE_SYNTAX",
    "syntax_with_user_wrappers",
    # cites
    "CiteCommand",
    "find_cites",
    "strip_cites",
    "comment_spans",
    "ignored_spans",
    "in_spans",
    # context
    "CursorContext",
    "cursor_context",
    "insertion_for",
    "dominant_command",
    "separator_style",
    # plain text
    "to_plain_text",
    "galactica_ref",
    "MATH_PLACEHOLDER",
    "quick_text",
    # outline
    "Heading",
    "Outline",
    "headings",
    "outline_at",
    # placeholders
    "Placeholder",
    "find_placeholders",
    # discovery
    "BibliographyDiscovery",
    "FlatDocument",
    "FlatPiece",
    "find_root",
    "discover_bibliographies",
    "flatten_document",
    "bibinputs_dirs",
]
