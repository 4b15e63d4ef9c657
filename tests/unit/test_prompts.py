from ghosttype.context.types import PromptContext, Snippet
from ghosttype.prompts import FORMATS, build_prompt, pick_format, strip_special

QWEN = FORMATS["qwen2.5-coder"]


def test_file_level_fim_layout():
    prompt = build_prompt(QWEN, PromptContext("a.py", "python", "def f(", "):\n"))
    assert prompt.as_text() == "<|fim_prefix|>def f(<|fim_suffix|>):\n<|fim_middle|>"
    # User text never sits in a special segment.
    assert [s.special for s in prompt.segments] == [True, False, True, False, True]


def test_repository_level_layout_puts_neighbours_first():
    context = PromptContext(
        "pkg/a.py",
        "python",
        "x = ",
        "\n",
        snippets=(Snippet("pkg/b.py", "def helper(): ..."),),
        repo_name="proj",
    )
    text = build_prompt(QWEN, context).as_text()
    assert text == (
        "<|repo_name|>proj\n<|file_sep|>pkg/b.py\ndef helper(): ...\n"
        "<|file_sep|>pkg/a.py\n<|fim_prefix|>x = <|fim_suffix|>\n<|fim_middle|>"
    )


def test_special_tokens_in_user_text_are_neutralised_in_text_prompts():
    prompt = build_prompt(QWEN, PromptContext("a.py", "python", "s = '<|fim_suffix|>'", ""))
    text = prompt.as_text()
    assert text.count("<|fim_suffix|>") == 1  # only the template's own marker


def test_strip_special_removes_leaked_markers():
    assert strip_special("return 1<|endoftext|>", QWEN) == "return 1"


def test_codestral_is_suffix_first():
    text = build_prompt(FORMATS["codestral"], PromptContext("a.py", "python", "P", "S")).as_text()
    assert text == "[SUFFIX]S[PREFIX]P"


def test_auto_format_from_model_name():
    assert pick_format("auto", "bigcode/starcoder2-3b").name == "starcoder2"
    assert pick_format("auto", "deepseek-coder-1.3b-base").name == "deepseek-coder"
    assert pick_format("auto", "Qwen/Qwen2.5-Coder-7B").name == "qwen2.5-coder"
    assert pick_format("auto", "").name == "qwen2.5-coder"
    assert pick_format("codellama", "qwen").name == "codellama"
