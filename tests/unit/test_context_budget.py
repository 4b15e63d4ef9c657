"""How ContextBuilder splits the token budget (counted here in words, for exact figures)."""

from ghosttype.config import ContextSettings
from ghosttype.context import ContextBuilder
from ghosttype.documents import DocumentStore, TextEdit


def words(text: str) -> int | None:
    return len(text.split())


def test_a_single_file_workspace_gives_the_prefix_the_whole_budget(tmp_path):
    store = DocumentStore()
    text = "".join(f"value_{i} = {i}\n" for i in range(60))  # 180 words: fits whole
    document = store.open((tmp_path / "a.py").as_uri(), text, "python", 1)
    builder = ContextBuilder(store, tmp_path)
    context = builder.build(
        document, len(text), ContextSettings(max_prompt_tokens=260), words, now=0.0
    )
    assert context.snippets == ()
    assert context.prefix == text  # no share held back for neighbours that do not exist


def test_a_long_file_keeps_room_for_its_outline_and_the_anchor_holds(tmp_path):
    store = DocumentStore()
    head = "import os\n\n\ndef helper(path):\n    return os.path.basename(path)\n\n\n"
    body = "".join(f"value_{i} = helper('{i}')\n" for i in range(400))
    text = head + body
    (tmp_path / "b.py").write_text("def other():\n    value_1 = helper('1')\n")  # a neighbour
    document = store.open((tmp_path / "a.py").as_uri(), text, "python", 1)
    builder = ContextBuilder(store, tmp_path)
    settings = ContextSettings(max_prompt_tokens=400)
    first = builder.build(document, len(text), settings, words, now=0.0)
    assert not first.prefix.startswith("import os")
    neighbour, outline = first.snippets
    assert neighbour.path == "b.py" and outline.path == "a.py"
    assert "import os" in outline.text and "def helper(path)" in outline.text
    typed = store.change(
        document.uri, [TextEdit("x", (document.line_count - 1, 0), (document.line_count - 1, 0))], 3
    )
    second = builder.build(typed, len(typed.text), settings, words, now=0.1)
    assert second.prefix == first.prefix + "x"  # same start: the KV cache is reused
    assert second.snippets == first.snippets


def test_the_outline_keeps_the_enclosing_scope_and_the_imports_the_cursor_uses(tmp_path):
    # 30 imports before the one the code at the cursor uses: the outline cannot hold them all.
    imports = "".join(f"import module_{n}\n" for n in range(30)) + "from .tools import helper\n"
    body = "".join(f"    x_{n} = {n}\n" for n in range(300))
    text = imports + "def main():\n" + body + "    y = helper(1)\n    "
    (tmp_path / "tools.py").write_text("def helper(n):\n    return n\n")
    store = DocumentStore()
    document = store.open((tmp_path / "main.py").as_uri(), text, "python", 1)
    builder = ContextBuilder(store, tmp_path)
    settings = ContextSettings(max_prompt_tokens=400)
    context = builder.build(document, len(text), settings, words, now=0.0, invoked=True)
    outline = next(s for s in context.snippets if s.path == "main.py").text.split("\n")
    assert outline[-1] == "def main():"  # in file order: the imports, then the enclosing scope
    assert 0 < outline.index("from .tools import helper") == len(outline) - 2


def test_a_file_alone_gets_no_outline_and_its_prefix_gets_the_room(tmp_path):
    # Measured: the file's outline as the only other "file" of the prompt made in-file completions
    # worse (benchmarks/RESULTS.md, session 9).
    text = "import os\n\n\n" + "".join(f"value_{i} = os.sep\n" for i in range(400))
    store = DocumentStore()
    document = store.open((tmp_path / "a.py").as_uri(), text, "python", 1)
    context = ContextBuilder(store, tmp_path).build(
        document, len(text), ContextSettings(max_prompt_tokens=400), words, now=0.0, invoked=True
    )
    assert context.snippets == ()
    assert words(context.prefix) > 0.9 * (400 - 16)


def test_an_invoked_request_fills_the_window_and_leaves_the_typing_anchor(tmp_path):
    store = DocumentStore()
    text = "".join(f"v{i} = h\n" for i in range(400))
    document = store.open((tmp_path / "a.py").as_uri(), text, "python", 1)
    builder = ContextBuilder(store, tmp_path)
    settings = ContextSettings(max_prompt_tokens=400, neighbours=False)
    typing = builder.build(document, len(text), settings, words)
    invoked = builder.build(document, len(text), settings, words, invoked=True)
    assert len(invoked.prefix) > len(typing.prefix)  # quality first: the whole budget
    # The cursor is at the end: the suffix's share goes to the prefix as well.
    assert 0.9 * (400 - 16) < words(invoked.prefix) <= 400
    again = builder.build(document, len(text), settings, words)
    assert again.prefix == typing.prefix  # keystrokes keep sharing their anchor


def test_an_invoked_request_gives_what_a_short_file_leaves_to_the_neighbours(tmp_path):
    store = DocumentStore()
    for n in range(30):  # siblings that look like the current file
        (tmp_path / f"sibling_{n}.py").write_text(
            "".join(
                f"def handle_{n}_{i}(request, session):\n    return session.get(request, a, b, c, d)\n"
                for i in range(10)
            )
        )
    text = "def view(request, session):\n    return "
    document = store.open((tmp_path / "view.py").as_uri(), text, "python", 1)
    builder = ContextBuilder(store, tmp_path)
    settings = ContextSettings(max_prompt_tokens=1000)
    typing = builder.build(document, len(text), settings, words, now=0.0)
    invoked = builder.build(document, len(text), settings, words, now=0.1, invoked=True)

    def size(context):
        return sum(words(s.text) + words(s.path) for s in context.snippets)

    assert size(typing) <= 0.3 * 1000  # while typing: the fixed share, so the anchor holds
    assert size(invoked) > 0.3 * 1000  # asked for: the room the file does not need
    total = size(invoked) + words(invoked.prefix) + words(invoked.suffix)
    # No suffix or outline share held back for a file that fits whole (what is left is less
    # than a window).
    assert 0.8 * 1000 < total <= 1000
    assert invoked.prefix == text
    again = builder.build(document, len(text), settings, words, now=0.2)
    assert again.snippets == typing.snippets  # the typing selection is kept
