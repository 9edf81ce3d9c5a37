"""The parser: registry of commands, --version, --help with exit codes, usage errors exit 2."""

from __future__ import annotations

import importlib

import pytest

from startref import __version__
from startref.cli.main import COMMANDS, build_parser, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"startref {__version__}"


def test_help_lists_every_command_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"\n    {name} " in out
    for code in ("0", "1", "2", "130"):
        assert f"\n  {code} " in out


def test_every_registered_module_has_register_and_all() -> None:
    for name in COMMANDS:
        module = importlib.import_module(f"startref.cli.{name}")
        assert callable(module.register)
        assert "register" in module.__all__


def test_each_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for name in COMMANDS:
        assert main([name, "--help"]) == 0
        assert f"usage: startref {name}" in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: startref" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["suggest", "paper.tex"],  # neither --at nor --offset
        ["suggest", "paper.tex", "--at", "12"],
        ["suggest", "paper.tex", "--at", "0:3"],
        ["suggest", "paper.tex", "--at", "1:1", "--offset", "3"],
        ["suggest", "paper.tex", "--at", "1:1", "-k", "0"],
        ["annotate", "paper.tex", "-o", "x.tex", "--in-place"],
        ["annotate", "paper.tex", "--keep-k", "-1"],
        ["bogus"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err
    assert "Traceback" not in err


def test_engine_flags_are_shared() -> None:
    parser = build_parser()
    for name in ("suggest", "annotate", "eval"):
        args = parser.parse_args([name, "p.tex", "--no-generator", "--device", "cpu", "--model", "m", "--model-dir", "d"]
                                 + (["--at", "1:1"] if name == "suggest" else []))
        assert (args.use_generator, args.device, args.model, args.model_dir) == (False, "cpu", "m", "d")


@pytest.mark.parametrize("flags", [["--port", "99999"], ["--workers", "0"]])
def test_serve_rejects_bad_settings_before_starting(flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("startref: error: ") and "Traceback" not in err
