"""``python -m startref``: the same CLI as the ``startref`` console script."""

from __future__ import annotations

import sys

from startref.cli.main import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
