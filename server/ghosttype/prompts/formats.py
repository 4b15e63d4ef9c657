"""Prompt formats, one per model family, as data.

A template is a string with `{prefix}`, `{suffix}`, `{repo}`, `{path}` and `{content}` holes. The
literal text of a template is ours and may hold special tokens; the text that fills a hole comes from
the user's files and is never parsed as special tokens.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PromptFormat:
    name: str
    # File-level fill-in-the-middle.
    fim: str
    # Every special token the family knows: stop words for generation, never shown to a user.
    special_tokens: tuple[str, ...]
    # Strings that end a completion (besides the special tokens).
    stop: tuple[str, ...] = ()
    # Repository-level layout (None where the family has none): the header once, then one `file`
    # per neighbour snippet, then `current` right before the file-level FIM of the current file.
    repo_header: str | None = None
    file: str | None = None
    current: str | None = None
    # Lowercase substrings of a model name that select this format with promptFormat = "auto".
    model_hints: tuple[str, ...] = ()


QWEN_CODER = PromptFormat(
    name="qwen2.5-coder",
    fim="<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
    special_tokens=(
        "<|fim_prefix|>",
        "<|fim_middle|>",
        "<|fim_suffix|>",
        "<|fim_pad|>",
        "<|repo_name|>",
        "<|file_sep|>",
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
    ),
    repo_header="<|repo_name|>{repo}\n",
    file="<|file_sep|>{path}\n{content}\n",
    current="<|file_sep|>{path}\n",
    model_hints=("qwen2.5-coder", "qwen2.5coder", "qwen-coder", "qwen3-coder", "qwen"),
)

STARCODER2 = PromptFormat(
    name="starcoder2",
    fim="<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
    special_tokens=(
        "<fim_prefix>",
        "<fim_middle>",
        "<fim_suffix>",
        "<fim_pad>",
        "<repo_name>",
        "<file_sep>",
        "<|endoftext|>",
    ),
    repo_header="<repo_name>{repo}",
    file="<file_sep>{path}\n{content}",
    current="<file_sep>{path}\n",
    model_hints=("starcoder",),
)

CODELLAMA = PromptFormat(
    name="codellama",
    fim="<PRE> {prefix} <SUF>{suffix} <MID>",
    special_tokens=("<PRE>", "<SUF>", "<MID>", "<EOT>", "</s>"),
    model_hints=("codellama", "code-llama", "code_llama"),
)

DEEPSEEK_CODER = PromptFormat(
    name="deepseek-coder",
    fim="<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
    special_tokens=(
        "<｜fim▁begin｜>",
        "<｜fim▁hole｜>",
        "<｜fim▁end｜>",
        "<｜end▁of▁sentence｜>",
        "<|EOT|>",
    ),
    model_hints=("deepseek",),
)

CODESTRAL = PromptFormat(
    name="codestral",
    # Codestral is trained suffix-first.
    fim="[SUFFIX]{suffix}[PREFIX]{prefix}",
    special_tokens=("[SUFFIX]", "[PREFIX]", "[MIDDLE]", "</s>"),
    model_hints=("codestral",),
)

CODEGEMMA = PromptFormat(
    name="codegemma",
    fim="<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
    special_tokens=(
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|file_separator|>",
        "<eos>",
        "<end_of_turn>",
    ),
    model_hints=("codegemma",),
)

FORMATS: dict[str, PromptFormat] = {
    f.name: f for f in (QWEN_CODER, STARCODER2, CODELLAMA, DEEPSEEK_CODER, CODESTRAL, CODEGEMMA)
}
