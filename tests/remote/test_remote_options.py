"""The model-server flags: the same on every engine command and on ``serve``, with errors that name the flag."""

from __future__ import annotations

import importlib

import pytest

from startref.cli.common import engine_config
from startref.cli.errors import CliError
from startref.server.__main__ import settings_from_args
from startref.server.settings import ServerSettings

main = importlib.import_module("startref.cli.main")


@pytest.mark.parametrize("command", [["suggest", "p.tex", "--at", "1:1"], ["annotate", "p.tex", "--dry-run"]])
def test_engine_commands_take_the_server_flags(command: list[str]) -> None:
    args = main.build_parser().parse_args(
        [*command, "--generator-url", "http://gpu:8000/v1", "--generator-api", "vllm", "--generator-model", "gal",
         "--generator-timeout", "2.5", "--lm-mode", "constrained"])
    config = engine_config(args)
    assert config.remote.url == "http://gpu:8000" and config.remote.api == "vllm"
    assert config.remote.model == "gal" and config.remote.timeout_s == 2.5 and config.lm_mode == "constrained"


def test_without_a_url_the_lm_stage_stays_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STARTREF_GENERATOR_URL", raising=False)
    args = main.build_parser().parse_args(["suggest", "p.tex", "--at", "1:1"])
    assert engine_config(args).remote is None


def test_constrained_mode_on_a_plain_openai_server_is_a_usage_error() -> None:
    args = main.build_parser().parse_args(["suggest", "p.tex", "--at", "1:1", "--generator-url", "http://h:1",
                                           "--lm-mode", "constrained"])
    with pytest.raises(CliError, match="--generator-api vllm or llamacpp"):
        engine_config(args)


def test_serve_takes_the_same_flags_and_refuses_bad_ones() -> None:
    args = main.build_parser().parse_args(["serve", "--generator-url", "http://127.0.0.1:8080", "--generator-api",
                                           "llamacpp", "--lm-mode", "free"])
    settings = settings_from_args(args)
    config = settings.engine_config()
    assert config.remote.api == "llamacpp" and config.lm_mode == "free"
    assert ServerSettings.from_json(settings.to_json()).engine_config().remote == config.remote  # --workers N
    with pytest.raises(ValueError, match="--generator-url"):
        ServerSettings(generator_url="gpu:8000")


def test_annotate_concurrency_must_be_positive() -> None:
    with pytest.raises(SystemExit):
        main.build_parser().parse_args(["annotate", "p.tex", "--dry-run", "--concurrency", "0"])
