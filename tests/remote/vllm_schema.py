"""vLLM's documented ``POST /v1/completions`` request schema, as pydantic models, to check startref's bodies against.

vLLM itself cannot run here (it needs a CUDA GPU and gigabytes of wheels), so its request schema is transcribed from
its documentation and source (``vllm/entrypoints/openai/completion/protocol.py``: ``CompletionRequest``, and
``vllm/sampling_params.py``: ``StructuredOutputsParams``, vLLM 0.12+, where ``guided_*`` fields were removed).
Differences from vLLM on purpose: ``extra="forbid"`` (vLLM only logs and ignores unknown fields; a field it ignores
is a field we send for nothing, like a stale ``guided_choice``), and only the fields startref could plausibly send.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StructuredOutputsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    json_: str | dict[str, Any] | None = Field(default=None, alias="json")
    regex: str | None = None
    choice: list[str] | None = None
    grammar: str | None = None
    json_object: bool | None = None
    disable_any_whitespace: bool = False
    disable_additional_properties: bool = False
    whitespace_pattern: str | None = None
    structural_tag: str | None = None

    @model_validator(mode="after")
    def one_constraint(self) -> StructuredOutputsParams:
        count = sum(v is not None for v in (self.json_, self.regex, self.choice, self.grammar, self.json_object))
        if count != 1:
            raise ValueError("structured_outputs needs exactly one of json, regex, choice, grammar, json_object")
        return self


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    prompt: list[int] | list[list[int]] | str | list[str]
    echo: bool | None = False
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    logprobs: int | None = None
    max_tokens: int | None = 16
    n: int = 1
    presence_penalty: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool | None = False
    suffix: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    user: str | None = None
    use_beam_search: bool = False
    top_k: int | None = None
    min_p: float | None = None
    repetition_penalty: float | None = None
    length_penalty: float = 1.0
    stop_token_ids: list[int] | None = None
    include_stop_str_in_output: bool = False
    ignore_eos: bool = False
    min_tokens: int = 0
    skip_special_tokens: bool = True
    spaces_between_special_tokens: bool = True
    truncate_prompt_tokens: int | None = None
    allowed_token_ids: list[int] | None = None
    prompt_logprobs: int | None = None
    add_special_tokens: bool = True
    structured_outputs: StructuredOutputsParams | None = None
    priority: int = 0
    request_id: str | None = None
    return_tokens_as_token_ids: bool | None = None
    return_token_ids: bool | None = None

    @model_validator(mode="after")
    def vllm_rules(self) -> CompletionRequest:
        if self.logprobs is not None and self.logprobs < 0 and self.logprobs != -1:
            raise ValueError("logprobs must be a positive value or -1")
        if self.max_tokens is not None and self.max_tokens < 0:
            raise ValueError("max_tokens must be >= 0")
        if self.max_tokens == 0 and not self.echo:
            raise ValueError("max_tokens 0 only makes sense with echo (nothing would come back)")
        if self.suffix is not None:
            raise ValueError("vLLM does not support suffix")
        return self
