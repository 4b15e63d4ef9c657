"""tree-sitter scopes, imports, definitions and completion shape, fed from tests/test_data."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from tree_sitter_language_pack import get_language

from ghosttype.context.syntax import (
    LANGUAGE_IDS,
    SPECS,
    SyntaxIndex,
    api_outline,
    call_sites,
    completion_shape,
    definitions,
    enclosing_scopes,
    imports,
    parses_cleanly,
    related_outline,
    spec_for,
    used_signatures,
)
from ghosttype.documents import Document, DocumentStore, TextEdit

DATA = Path(__file__).resolve().parent.parent / "test_data"
CURSOR = "█"
EXTENSIONS = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".cpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".swift": "swift",
    ".kt": "kotlin",
    ".lua": "lua",
    ".sh": "shellscript",
}
FUNCTION_CASES = sorted(
    p for p in (DATA / "comment_to_function").iterdir() if p.suffix in EXTENSIONS
)
SHAPE_CASES = sorted((DATA / "shape").glob("*/*"))


def read_case(path: Path) -> tuple[str, int, str]:
    """(text without the cursor marker, cursor offset, LSP language id)."""
    marked = path.read_text(encoding="utf-8")
    offset = marked.index(CURSOR)
    return marked.replace(CURSOR, "", 1), offset, EXTENSIONS[path.suffix]


def parse(text: str, language_id: str):  # type: ignore[no-untyped-def]
    parsed = SyntaxIndex().parsed(Document("file:///t", text, language_id))
    assert parsed is not None
    return parsed


@pytest.mark.parametrize("key", sorted(SPECS))
def test_spec_names_real_node_types(key: str) -> None:
    spec = SPECS[key]
    language = get_language(spec.grammar)  # type: ignore[arg-type]
    groups = (spec.functions, spec.classes, spec.blocks, spec.imports, spec.comments, spec.wrappers)
    missing = [t for group in groups for t in group if language.id_for_node_kind(t, True) is None]
    assert missing == []


@pytest.mark.parametrize(
    "language_id",
    ["typescriptreact", "shellscript", "cpp", "csharp", "javascriptreact", "kotlin", "lua"],
)
def test_lsp_language_ids_map_to_grammars(language_id: str) -> None:
    assert spec_for(language_id) is not None
    assert LANGUAGE_IDS[language_id] in SPECS


def test_unknown_language_gives_none_everywhere() -> None:
    document = Document("file:///notes.txt", "hello", "plaintext")
    assert spec_for("plaintext") is None
    assert parses_cleanly("plaintext", "hello") is None
    assert SyntaxIndex().parsed(document) is None
    assert SyntaxIndex().definitions(document) == {}


@pytest.mark.parametrize("path", FUNCTION_CASES, ids=[p.stem for p in FUNCTION_CASES])
def test_comment_to_function(path: Path) -> None:
    """A comment and a signature with an empty body: a multi-line completion whose body, inserted,
    parses cleanly; the enclosing scope is the function."""
    text, offset, language_id = read_case(path)
    body = path.with_name(path.name + ".expected").read_text(encoding="utf-8")
    parsed = parse(text, language_id)
    assert completion_shape(parsed, offset) == "multi"
    assert parses_cleanly(language_id, text[:offset] + body + text[offset:])
    scopes = enclosing_scopes(parsed, offset)
    assert scopes and scopes[-1].kind == "function"
    assert scopes[-1].name in scopes[-1].signature
    assert imports(parsed), "each case starts with an import"


@pytest.mark.parametrize(
    "path", SHAPE_CASES, ids=[f"{p.parent.name}-{p.stem}" for p in SHAPE_CASES]
)
def test_completion_shape(path: Path) -> None:
    text, offset, language_id = read_case(path)
    assert completion_shape(parse(text, language_id), offset) == path.parent.name


PYTHON = """import os
from pathlib import Path as P


class Store:
    def get(self, key: str) -> bytes:
        return b""


def helper(a, b=1):
    return a + b


def main():
    store = Store()
    value = helper(1)
    x = store.get("k")
"""


def test_definitions_and_used_signatures() -> None:
    parsed = parse(PYTHON, "python")
    known = definitions(parsed)
    assert set(known) == {"Store", "get", "helper", "main"}
    cursor = PYTHON.index("x = store")
    start = PYTHON.index("def main")
    used = used_signatures(parsed, cursor, known, start, len(PYTHON))
    assert used == ("def get(self, key: str) -> bytes:", "def helper(a, b=1):", "class Store:")
    assert imports(parsed) == ("import os", "from pathlib import Path as P")
    assert [s.name for s in enclosing_scopes(parsed, cursor)] == ["main"]


def test_anonymous_functions_are_named_by_their_declaration() -> None:
    # `x => …` has an identifier child: its parameter, not its name.
    source = (
        "const isObject = (thing) => thing !== null;\n"
        "const trim = str => str.trim();\n"
        "export const load = async (url, options = {}) => {\n  return url;\n};\n"
        "var legacy = function (a) { return a; };\n"
        "function plain(b) { return b; }\n"
    )
    assert api_outline("javascript", source) == [
        ("isObject", "const isObject = (thing) =>"),
        ("trim", "const trim = str =>"),
        ("load", "const load = async (url, options = {}) =>"),
        ("legacy", "var legacy = function (a)"),
        ("plain", "function plain(b)"),
    ]


def test_non_ascii_offsets() -> None:
    text = 'name = "héllo wörld 🎉"\n\ndef f():\n    return name\n'
    parsed = parse(text, "python")
    cursor = text.index("return")
    assert [s.name for s in enclosing_scopes(parsed, cursor)] == ["f"]
    assert definitions(parsed)["f"].start == text.index("def f")


def test_incremental_reparse_matches_full_parse() -> None:
    rng = random.Random(4)
    store = DocumentStore()
    index = SyntaxIndex()
    index.attach(store)
    text = PYTHON + "s = 'ünïcödé 🎉'\n" * 3
    document = store.open("file:///a.py", text, "python", 1)
    index.parsed(document)
    for version in range(2, 60):
        lines = document.text.split("\n")
        line = rng.randrange(len(lines))
        column = rng.randrange(len(lines[line]) + 1)
        insert = rng.choice(["x", "é", "🎉", "\n    ", "(", "def g():\n    pass\n", ""])
        end = (line, column + rng.choice([0, 0, 1])) if insert == "" else (line, column)
        before = document.line(line)[:column]
        utf16 = len(before.encode("utf-16-le")) // 2
        end_utf16 = len(document.line(line)[: end[1]].encode("utf-16-le")) // 2
        document = store.change(
            document.uri, [TextEdit(insert, (line, utf16), (line, end_utf16))], version
        )
        if version % 3 == 0:  # several edits between parses, as while typing fast
            incremental = index.parsed(document)
            assert incremental is not None
            assert str(incremental.tree.root_node) == str(
                parse(document.text, "python").tree.root_node
            )


def test_full_text_change_reparses_from_scratch() -> None:
    store = DocumentStore()
    index = SyntaxIndex()
    index.attach(store)
    document = store.open("file:///a.py", "def a():\n    pass\n", "python", 1)
    index.parsed(document)
    document = store.change(document.uri, [TextEdit("def b():\n    pass\n")], 2)
    parsed = index.parsed(document)
    assert parsed is not None and set(definitions(parsed)) == {"b"}


def test_a_seeded_speculative_state_parses_like_a_fresh_one() -> None:
    # The prefetch's accepted state starts from a copy of the open document's tree.
    store = DocumentStore()
    index = SyntaxIndex()
    index.attach(store)
    base = store.open("file:///a.py", "def f(x):\n    return \n\ny = [1, 2]\n", "python", 1)
    index.parsed(base)
    offset = base.text.index("return ") + len("return ")
    text = base.text[:offset] + "x + 1" + base.text[offset:]
    seeded = Document("file:///a.py#speculative", text, "python", -1, -5)
    index.seed(base, offset, offset, "x + 1", seeded)
    got = index.parsed(seeded)
    fresh = parse(text, "python")
    assert got is not None
    assert str(got.tree.root_node) == str(fresh.tree.root_node)
    assert "binary_operator" in str(got.tree.root_node)
    unchanged = index.parsed(base)
    assert unchanged is not None and unchanged.tree.root_node.end_byte == len(base.text)


def test_call_sites_show_how_callers_build_the_arguments_in_several_languages():
    python = (
        "def parse_key(reader):\n    return reader.read()\n\n\n"
        "def parse(stream, strict=False):\n    reader = Reader(stream)\n    count = 0\n"
        '    log("parse_key(reader) in a string")  # parse_key(x) in a comment\n'
        "    return parse_key(reader)\n\n\nparse_key(Reader(io.StringIO('a')))\n"
    )
    parsed = parse(python, "python")
    assert call_sites(parsed, "parse_key", 0, python.index("def parse(")) == (
        "def parse(stream, strict=False):\n    reader = Reader(stream)\n    ...\n"
        "    return parse_key(reader)\n\nparse_key(Reader(io.StringIO('a')))"
    )
    go = (
        "package p\n\nfunc total(xs []int) int {\n\treturn 0\n}\n\n"
        "func main() {\n\tvalues := []int{1, 2}\n\tfmt.Println(total(values))\n}\n"
    )
    start = go.index("func total")
    assert call_sites(parse(go, "go"), "total", start, go.index("func main")) == (
        "func main()\n\tvalues := []int{1, 2}\n\tfmt.Println(total(values))"
    )
    js = "function area(r) {\n  return r * r;\n}\nconst size = 2;\nconsole.log(area(size));\n"
    assert call_sites(parse(js, "javascript"), "area", 0, js.index("const")) == (
        "console.log(area(size));"
    )
    assert call_sites(parsed, "never_called", 0, 10) == ""


def test_related_outline_is_what_the_code_names_and_the_class_that_holds_it():
    text = (
        "import os\n\n\nclass Point:\n    x: int = 0\n    '''doc'''\n\n    @property\n"
        "    def norm(self) -> int:\n        return abs(self.x)\n\n    def moved(self, by):\n"
        "        return Point()\n\n\ndef helper(a, b):\n    return a\n\n\n"
        "def target(p: Point):\n    return helper(p.norm, 1)\n\n\ndef other():\n    pass\n"
    )
    parsed = parse(text, "python")
    start = text.index("def target")
    end = text.index("def other") - 3
    assert related_outline(parsed, start, end) == (
        "class Point:\n    x: int = 0\n    def norm(self) -> int:\n    def moved(self, by):\n"
        "def helper(a, b):"
    )
    method = text.index("    def moved")
    outline = related_outline(parsed, method, text.index("def helper") - 3)
    assert outline.startswith("class Point:\n") and "helper" not in outline
    assert related_outline(parsed, 0, 9) == ""  # `import os` names nothing defined here
