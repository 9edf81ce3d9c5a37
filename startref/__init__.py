"""startref: a citation co-pilot for LaTeX."""

__version__ = "0.1.0"
