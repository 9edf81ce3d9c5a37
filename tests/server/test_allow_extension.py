"""``--allow-extension ID``: allows exactly one browser extension's origin, and refuses what is not an extension id."""

from __future__ import annotations

import argparse

import pytest

from startref.server.__main__ import add_serve_arguments, settings_from_args
from startref.server.security import origin_allowed
from startref.server.settings import extension_origin

EXTENSION_ID = "abcdefghijklmnopabcdefghijklmnop"


def _settings(*argv: str):
    return settings_from_args(add_serve_arguments(argparse.ArgumentParser()).parse_args(list(argv)))


def test_flag_adds_the_extension_origin_next_to_allow_origin() -> None:
    settings = _settings("--allow-origin", "https://www.overleaf.com", "--allow-extension", EXTENSION_ID)
    assert settings.allow_origins == ("https://www.overleaf.com", f"chrome-extension://{EXTENSION_ID}")
    assert origin_allowed(f"chrome-extension://{EXTENSION_ID}", "127.0.0.1:8765", settings.allow_origins)
    assert not origin_allowed("chrome-extension://" + "b" * 32, "127.0.0.1:8765", settings.allow_origins)
    assert not origin_allowed("http://localhost:3000", "127.0.0.1:8765", settings.allow_origins)


def test_an_origin_or_upper_case_id_is_accepted_as_written() -> None:
    assert extension_origin(f"chrome-extension://{EXTENSION_ID.upper()}/") == f"chrome-extension://{EXTENSION_ID}"


@pytest.mark.parametrize("bad", ["", "abc", "z" * 32, EXTENSION_ID + "a", "https://www.overleaf.com", "*"])
def test_what_is_not_an_extension_id_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a Chromium extension id"):
        extension_origin(bad)
    with pytest.raises(ValueError):
        _settings("--allow-extension", bad)
