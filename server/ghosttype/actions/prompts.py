"""The chat prompts of the actions, as data and small functions. Every piece of the person's code
goes through `redact` here, the one place prompts are assembled (like the completion path's
context builder). Pure."""

from __future__ import annotations

from ..backends import ChatMessage
from ..context.secrets import redact
from .target import Related, Target

# Code shown to the model is cut to this (the embedded models' context is 4,096 tokens).
CODE_MAX_CHARS = 6_000
OUTPUT_MAX_CHARS = 3_000

NAMES = {
    "python": "Python",
    "javascript": "JavaScript",
    "javascriptreact": "JavaScript",
    "typescript": "TypeScript",
    "typescriptreact": "TypeScript",
    "go": "Go",
    "rust": "Rust",
    "java": "Java",
    "c": "C",
    "cpp": "C++",
    "csharp": "C#",
    "ruby": "Ruby",
    "php": "PHP",
    "lua": "Lua",
    "shellscript": "shell",
}


def language_name(language_id: str) -> str:
    return NAMES.get(language_id, language_id)


def _code(text: str, limit: int = CODE_MAX_CHARS) -> str:
    text = redact(text)
    return text if len(text) <= limit else text[:limit] + "\n… (cut)"


def _tail(text: str) -> str:
    text = redact(text)
    return text if len(text) <= OUTPUT_MAX_CHARS else "…\n" + text[-OUTPUT_MAX_CHARS:]


def _system(role: str) -> ChatMessage:
    return ChatMessage("system", f"You are an expert programmer. {role}")


def tests(
    target: Target,
    language_id: str,
    path: str,
    framework: str,
    style: str,
    existing: str,
    related: Related,
) -> list[ChatMessage]:
    language = language_name(language_id)
    seen = ""
    if existing.strip():
        seen = f"\nThe existing test file, for its style (do not repeat it):\n```\n{_code(existing, 2000)}\n```\n"
    uses = ""
    if related.uses.strip():
        uses = (
            f"\nIt uses these from the same file (signatures only; build them as they "
            f"show):\n```{language_id}\n{_code(related.uses, 2000)}\n```\n"
        )
    if related.example:
        uses += (
            "\nArguments of the right types are built like this (use your own values): "
            f"`{redact(related.example)}`\n"
        )
    if related.calls.strip():
        uses += (
            f"\nThe file calls it like this; pass arguments of the same types:\n"
            f"```{language_id}\n{_code(related.calls, 1200)}\n```\n"
        )
    user = (
        f"Write {framework} unit tests for the {target.label} from the {language} file `{path}`.\n"
        f"{style}\nDo not copy or redefine the code under test: import it. Cover each branch "
        "(every if, else, loop and early return) and the boundary values, each with an assert "
        f"of the exact expected result.{seen}{uses}\n"
        f"```{language_id}\n{_code(target.text)}\n```\n"
        "Keep it short: under 50 lines. Answer with the test code in one fenced code block and "
        "nothing else."
    )
    return [_system("You write correct, focused unit tests."), ChatMessage("user", user)]


def tests_failed(answer: str, output: str, failed: list[str]) -> list[ChatMessage]:
    """What the model is told after a run of its tests failed."""
    names = ", ".join(failed) if failed else "the run"
    user = (
        f"Running these tests failed ({names}). The output:\n```\n{_tail(output)}\n```\n"
        "The code under test is right unless a test shows a real bug. Correct the tests: fix "
        "wrong expected values and imports, remove tests you are unsure of. Answer with the "
        "whole corrected test code in one fenced code block and nothing else."
    )
    return [ChatMessage("assistant", answer), ChatMessage("user", user)]


def tests_miss_target(name: str) -> ChatMessage:
    return ChatMessage(
        "user",
        f"None of these tests calls `{name}`, the function to test. Write tests that call "
        f"`{name}` and assert its results. Answer with one fenced code block only.",
    )


def tests_miss_changes(changes: list[str]) -> ChatMessage:
    """After tests that pass: the changes of the function they would not notice."""
    listed = "\n".join(f"- {redact(change)}" for change in changes)
    return ChatMessage(
        "user",
        "These tests pass, but they also pass when the function is changed in any of these "
        f"ways, so they would miss such a bug:\n{listed}\nWrite only new tests that pass on the "
        "function as it is and fail after each change: call it with inputs where the change "
        "gives a different result (at the boundaries) and assert the exact result. Answer with "
        "one fenced code block only.",
    )


def no_code() -> ChatMessage:
    return ChatMessage(
        "user", "Your answer held no code that parses. Answer with one fenced code block only."
    )


def docstring(target: Target, language_id: str) -> list[ChatMessage]:
    user = (
        f"Write the documentation comment for this {language_name(language_id)} {target.kind}: "
        "one summary sentence, then a short description of the parameters, the result and the "
        "errors it raises where there are any. Plain text only: no code, no comment markers, "
        f"no quotes.\n```{language_id}\n{_code(target.text)}\n```"
    )
    return [_system("You write clear, short documentation."), ChatMessage("user", user)]


def explain(target: Target, language_id: str, path: str) -> list[ChatMessage]:
    user = (
        f"Explain this {language_name(language_id)} {target.label} from `{path}` to a "
        "colleague: what it does, how, and anything surprising. Markdown, under 250 words."
        f"\n```{language_id}\n{_code(target.text)}\n```"
    )
    return [_system("You explain code clearly and briefly."), ChatMessage("user", user)]


def fix(target: Target, language_id: str, problem: str, output: str) -> list[ChatMessage]:
    seen = f"\nThe failing test's output:\n```\n{_tail(output)}\n```" if output else ""
    user = (
        f"This {language_name(language_id)} {target.label} has a problem: {problem}{seen}\n"
        f"```{language_id}\n{_code(target.text)}\n```\n"
        f"Answer with the whole corrected {target.kind if target.name else 'code'} in one fenced "
        "code block and nothing else; change only what the fix needs."
    )
    return [_system("You fix bugs with the smallest change."), ChatMessage("user", user)]


def fix_failed(answer: str, output: str) -> list[ChatMessage]:
    """What the model is told when the covering tests still fail on its fix."""
    user = (
        f"The tests still fail with that change. The output:\n```\n{_tail(output)}\n```\n"
        "The tests are right: find what in the code makes them fail. Answer with the whole "
        "corrected code in one fenced code block and nothing else."
    )
    return [ChatMessage("assistant", answer), ChatMessage("user", user)]


def translate(target: Target, language_id: str, to: str) -> list[ChatMessage]:
    user = (
        f"Translate this {language_name(language_id)} {target.label} to idiomatic "
        f"{language_name(to)} with the same behaviour and name (in {language_name(to)}'s "
        f"naming style).\n```{language_id}\n{_code(target.text)}\n```\n"
        "Answer with the code in one fenced code block and nothing else."
    )
    return [_system("You translate code between languages."), ChatMessage("user", user)]


def refactor(target: Target, language_id: str, instruction: str) -> list[ChatMessage]:
    user = (
        f"Refactor this {language_name(language_id)} {target.label}: {redact(instruction)}\n"
        f"```{language_id}\n{_code(target.text)}\n```\n"
        "Keep its behaviour. Answer with the whole new code in one fenced code block and "
        "nothing else."
    )
    return [_system("You refactor code carefully."), ChatMessage("user", user)]


def translate_tests(
    tests: str, language_id: str, to: str, translation: str, framework: str, style: str
) -> list[ChatMessage]:
    """Translate's second step: the original's tests, in the target's test style, against the
    translated code."""
    user = (
        f"These {language_name(language_id)} tests check a function that was translated to "
        f"{language_name(to)}.\n```{language_id}\n{_code(tests, 2500)}\n```\n"
        f"The {language_name(to)} translation:\n```{to}\n{_code(translation, 2500)}\n```\n"
        f"Translate the tests to {framework} tests in {language_name(to)}. {style}\n"
        "Keep every test and its expected values; call the translation by its "
        f"{language_name(to)} name. Do not copy or redefine the translation. Answer with the "
        "test code in one fenced code block and nothing else."
    )
    return [_system("You translate code between languages."), ChatMessage("user", user)]


def translation_failed(
    target: Target,
    language_id: str,
    to: str,
    translation: str,
    tests: str,
    output: str,
    original_tests: str,
) -> list[ChatMessage]:
    """Translate after the translated tests failed: the original and its tests are right; the
    translation or the translated tests are not."""
    language, target_language = language_name(language_id), language_name(to)
    user = (
        f"This {language} {target.label} and its tests are right:\n```{language_id}\n"
        f"{_code(target.text, 2500)}\n```\n```{language_id}\n{_code(original_tests, 2000)}\n```\n"
        f"Its {target_language} translation:\n```{to}\n{_code(translation, 2500)}\n```\n"
        f"The translated tests:\n```{to}\n{_code(tests, 2500)}\n```\n"
        f"Running the translated tests failed. The output:\n```\n{_tail(output)}\n```\n"
        "Correct the translation or the tests, whichever is wrong. Answer with two fenced code "
        f"blocks and nothing else: first the whole corrected {target_language} translation, "
        "then the whole corrected tests."
    )
    return [_system("You translate code between languages."), ChatMessage("user", user)]
