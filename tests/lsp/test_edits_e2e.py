"""Edits kept exactly, end to end (issue 28): random didChange sequences sent to the real server
over stdio, each followed by an inline completion request at a random position. The server's text
is not visible from outside, so what comes back is checked against the reference model of
tests/unit/test_edits_property.py: every item's insert text is a string, and a range starts at the
cursor, ends at a valid position of the reference text, and covers text the insert text ends with
(the scripted backend answers "f(" with "x)", which replaces an auto-closed bracket). The answer
itself ("x)" after "f(", "zz" anywhere else) shows that the server's text before the cursor is the
reference's."""

from __future__ import annotations

import itertools
import random
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import SERVER_COMMAND, write_script
from tests.unit.test_edits_property import PIECES, Reference

SEQUENCES = 50
FOLDER: list[Path] = []


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND), scope="module")
async def client(lsp_client: LanguageClient):
    @lsp_client.feature("ghosttype/status")
    def on_status(params):
        pass

    with tempfile.TemporaryDirectory() as folder:
        FOLDER.append(Path(folder))
        script = write_script(
            Path(folder),
            {"rules": [{"endsWith": "f(", "text": "x)"}], "default": {"text": "zz"}},
            name="edits.json",
        )
        lsp_client.set_configuration({"completion": {"debounceMs": 0}}, section="ghosttype")
        await lsp_client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("neovim"),
                root_uri=Path(folder).as_uri(),
                initialization_options={"backend": {"kind": "scripted", "script": str(script)}},
            )
        )
        yield
        await lsp_client.shutdown_session()


def text(rng: random.Random, most: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, most)))


def position(rng: random.Random, reference: Reference) -> tuple[int, int]:
    """Anywhere a client might point: between characters, at or past a line's end, inside a
    surrogate pair, on a line past the last one (rarely: the request then gets nothing)."""
    line_count = len(reference.lines())
    line = rng.randrange(line_count + 1) if rng.random() < 0.1 else rng.randrange(line_count)
    if line >= line_count:
        return line, rng.randint(0, 3)
    columns = reference.boundaries(line)
    kind = rng.choice(["between", "between", "end", "past", "inside"])
    if kind == "end":
        return line, columns[-1]
    if kind == "past":
        return line, columns[-1] + rng.randint(1, 5)
    pairs = [a + 1 for a, b in itertools.pairwise(columns) if b - a == 2]
    if kind == "inside" and pairs:
        return line, rng.choice(pairs)
    return line, rng.choice(columns)


def change(rng: random.Random, reference: Reference) -> types.TextDocumentContentChangeEvent:
    if rng.random() < 0.1:
        return types.TextDocumentContentChangeWholeDocument(text(rng, 30))
    start, end = sorted([position(rng, reference), position(rng, reference)])
    return types.TextDocumentContentChangePartial(
        types.Range(types.Position(*start), types.Position(*end)), text(rng, 6)
    )


def apply(reference: Reference, event: types.TextDocumentContentChangeEvent) -> None:
    if isinstance(event, types.TextDocumentContentChangePartial):
        start, end = event.range.start, event.range.end
        first = reference.offset(start.line, start.character)
        last = reference.offset(end.line, end.character)
        reference.text = reference.text[:first] + event.text + reference.text[last:]
    else:
        reference.text = event.text


def valid(reference: Reference, at: types.Position) -> bool:
    return at.line < len(reference.lines()) and at.character in reference.boundaries(at.line)


async def test_random_edit_sequences_then_completions_get_valid_ranges(client: LanguageClient):
    rng = random.Random(28)
    ranges = requests = 0
    for sequence in range(SEQUENCES):
        uri = (FOLDER[0] / f"edits_{sequence}.py").as_uri()
        reference = Reference(text(rng, 30))
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, "python", 1, reference.text)
            )
        )
        version = 1
        for _ in range(rng.randint(1, 5)):
            events = []
            for _ in range(rng.randint(1, 3)):
                event = change(rng, reference)  # drawn against the text the previous one left
                apply(reference, event)
                events.append(event)
            probe = rng.random() < 0.3
            if probe:
                # "f()" at the end of a line, the cursor inside: the answer "x)" replaces ")".
                line = rng.randrange(len(reference.lines()))
                past = types.Position(line, 999)
                events.append(
                    types.TextDocumentContentChangePartial(types.Range(past, past), "f()")
                )
                apply(reference, events[-1])
            version += 1
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(version=version, uri=uri), events
                )
            )
            if probe:
                cursor = reference.position(reference.offset(line, 999) - 1)
            else:
                cursor = position(rng, reference)
            requests += 1
            result = await client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                    text_document=types.TextDocumentIdentifier(uri),
                    position=types.Position(*cursor),
                )
            )
            assert isinstance(result, types.InlineCompletionList)
            if cursor[0] >= len(reference.lines()):
                assert result.items == ()  # a line past the end is no place to complete
                continue
            offset = reference.offset(*cursor)
            # The scripted answer depends on the text before the cursor: the server's must be
            # the reference's there.
            expected = "x)" if reference.text[:offset].endswith("f(") else "zz"
            assert [item.insert_text for item in result.items] == [expected], (
                reference.text,
                cursor,
            )
            for item in result.items:
                if item.range is None:
                    continue
                ranges += 1
                start, end = item.range.start, item.range.end
                assert valid(reference, start) and valid(reference, end), (reference.text, item)
                assert (start.line, start.character) == reference.position(offset)
                assert (start.line, start.character) <= (end.line, end.character)
                replaced = reference.text[offset : reference.offset(end.line, end.character)]
                assert replaced and item.insert_text.endswith(replaced), (reference.text, item)
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
    # The run must have met ranges to check at all.
    assert requests >= SEQUENCES and ranges >= 5, (requests, ranges)
