import pytest

from ghosttype.documents import Document, DocumentStore, PositionError, TextEdit


def test_utf16_positions_round_trip_through_astral_characters():
    document = Document("file:///a", "a😀b\nx")
    # 😀 is two UTF-16 code units: 'b' is at UTF-16 column 3, code point 2.
    assert document.offset_at(0, 3) == 2
    assert document.position_at(2) == (0, 3)
    assert document.position_at(document.text.index("x")) == (1, 0)


def test_character_past_the_end_of_a_line_clamps_to_its_end():
    document = Document("file:///a", "abc\ndef")
    assert document.offset_at(0, 99) == 3


def test_line_past_the_end_of_the_document_is_an_error():
    with pytest.raises(PositionError, match="past the end"):
        Document("file:///a", "abc").offset_at(5, 0)


def test_incremental_edits_apply_in_order_and_notify_listeners():
    store = DocumentStore()
    seen = []
    store.edit_listeners.append(
        lambda before, start, end, text, after: seen.append((start, end, text))
    )
    opened = store.open("file:///a", "hello\nworld\n", "python", 1)
    document = store.change(
        "file:///a",
        [TextEdit("HELLO", (0, 0), (0, 5)), TextEdit("!", (1, 5), (1, 5))],
        version=2,
    )
    assert document.text == "HELLO\nworld!\n"
    assert document.version == 2 and document.revision == opened.revision + 2
    assert seen == [(0, 5, "HELLO"), (11, 11, "!")]


def test_full_text_change_replaces_the_document():
    store = DocumentStore()
    store.open("file:///a", "old", "python", 1)
    assert store.change("file:///a", [TextEdit("new")], 2).text == "new"


def test_snapshots_are_immutable_after_later_edits():
    store = DocumentStore()
    first = store.open("file:///a", "one", "python", 1)
    store.change("file:///a", [TextEdit("two")], 2)
    assert first.text == "one"


def test_line_starts_follow_random_edits_exactly():
    import random

    rng = random.Random(7)
    document = Document("file:///a", "".join(rng.choice("ab\n\r😀") for _ in range(300)))
    assert document.line_starts  # computed once; later snapshots derive theirs
    for version in range(500):
        start = rng.randrange(len(document.text) + 1)
        end = min(len(document.text), start + rng.choice([0, 0, 1, 5]))
        inserted = "".join(rng.choice("xy\n") for _ in range(rng.choice([0, 1, 3])))
        document = document.with_edit(start, end, inserted, version)
        fresh = Document("file:///a", document.text)
        assert document.line_starts == fresh.line_starts


def test_a_document_opened_again_never_repeats_a_revision():
    # Clients re-open a document after a reload without closing it; caches keyed on (uri,
    # revision) must not take the new text for the old.
    store = DocumentStore()
    seen = {store.open("file:///a", "one", "python", 1).revision}
    seen.add(store.change("file:///a", [TextEdit("two")], 2).revision)
    seen.add(store.open("file:///a", "three", "python", 1).revision)
    store.close("file:///a")
    seen.add(store.open("file:///a", "four", "python", 1).revision)
    assert len(seen) == 4
