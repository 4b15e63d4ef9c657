"""Neighbour snippets: ranking, import resolution, exclusions, budget and stability."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

import pytest

from ghosttype.context.exclude import Excluder
from ghosttype.context.neighbours import (
    API_MAX_CHARS,
    API_SCORE,
    MAX_FILE_BYTES,
    MAX_SNIPPETS,
    MIN_SCORE,
    NeighbourIndex,
    best_windows,
    identifiers,
    import_candidates,
    import_text,
    index_text,
    jaccard,
)
from ghosttype.documents import Document, DocumentStore, TextEdit


def count(text: str) -> int:
    return len(text) // 4 + 1


def test_jaccard_over_identifiers_without_keywords() -> None:
    a = identifiers("def load(path): return open(path).read()")
    b = identifiers("def save(path, data): open(path, 'w').write(data)")
    assert "def" not in a and "return" not in a
    assert jaccard(a, b) == pytest.approx(2 / 8)  # {path, open} shared, 8 in all
    assert jaccard(a, frozenset()) == 0.0


def test_best_window_is_the_similar_one() -> None:
    filler = "\n".join(f"unrelated_{i} = {i}" for i in range(200))
    target = "def parse_header(buffer, offset):\n    magic = buffer[offset:offset + 4]\n"
    indexed = index_text("lib.py", filler + "\n" + target + filler)
    query = identifiers("header = parse_header(buffer, offset)\nmagic = header.magic")
    (score, window), *_ = best_windows(indexed, query)
    assert score >= MIN_SCORE
    assert "parse_header" in indexed.text(window.start, window.end)


@pytest.mark.parametrize(
    ("path", "text", "family", "expected"),
    [
        pytest.param(
            "/ws/pkg/mod.py", "from .util import helper\n", "python", "/ws/pkg/util.py", id="py-rel"
        ),
        pytest.param(
            "/ws/pkg/mod.py", "from ..core import x\n", "python", "/ws/core.py", id="py-parent"
        ),
        pytest.param(
            "/ws/app.py", "import pkg.util as u\n", "python", "/ws/pkg/util.py", id="py-absolute"
        ),
        pytest.param(
            "/ws/app.py", "from pkg import util\n", "python", "/ws/pkg/util.py", id="py-from-pkg"
        ),
        pytest.param(
            "/ws/pkg/a.py",
            "from .recipes import (\n    take,\n    flatten,\n)\n",
            "python",
            "/ws/pkg/recipes.py",
            id="py-parenthesised-lines",
        ),
        pytest.param(
            "/ws/src/a.ts", 'import { b } from "./b";\n', "js", "/ws/src/b.ts", id="ts-relative"
        ),
        pytest.param(
            "/ws/src/a.ts", 'import b from "../lib/b.js";\n', "js", "/ws/lib/b.ts", id="ts-js-ext"
        ),
        pytest.param(
            "/ws/src/a.js",
            'const u = require("./util");\n',
            "js",
            "/ws/src/util/index.js",
            id="js-require-index",
        ),
        pytest.param(
            "/ws/cmd/main.go",
            'import (\n\t"fmt"\n\tst "example.com/app/store"\n)\n',
            "go",
            "/ws/store/",
            id="go-module",
        ),
    ],
)
def test_import_candidates(path: str, text: str, family: str, expected: str) -> None:
    found = import_candidates(path, text, family, ("/ws",), {"example.com/app": "/ws"})
    assert expected in found
    # The index scans only the lines that can hold imports: it must find the same.
    lines = import_text(text)
    assert import_candidates(path, lines, family, ("/ws",), {"example.com/app": "/ws"}) == found


def test_import_text_keeps_import_lines_and_their_groups_only() -> None:
    code = "".join(f"value_{n} = compute({n})\n" for n in range(500))
    python = (
        "import os\n" + code + "from .recipes import (\n    take,\n    flatten,\n)\n"
        "def late():\n    from .more import spy\n"
    )
    assert import_text(python).split("\n") == [
        "import os",
        "from .recipes import (",
        "    take,",
        "    flatten,",
        ")",
        "    from .more import spy",
    ]
    go = 'package app\n\nimport (\n\t"fmt"\n\t"example.com/app/util"\n)\n' + code
    assert import_text(go) == 'import (\n\t"fmt"\n\t"example.com/app/util"\n)'
    js = "import {\n  a,\n  b\n} from './ab.js';\n" + code + "const c = require('./c');\n"
    assert import_text(js) == "import {\n} from './ab.js';\nconst c = require('./c');"
    assert import_text(code) == ""


def test_package_imports_are_not_resolved() -> None:
    assert import_candidates("/ws/a.ts", 'import x from "react";\n', "js", ("/ws",), {}) == []


def write(root: Path, relative: str, text: str) -> str:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "app/models.py",
        "class Invoice:\n    def total_amount(self, tax_rate):\n"
        "        return sum(line.amount for line in self.lines) * (1 + tax_rate)\n",
    )
    write(tmp_path, "app/.env", "SECRET_KEY=do-not-read\n")
    write(tmp_path, "app/secret_settings.py", "invoice_total_amount_tax_rate = 'excluded'\n")
    write(tmp_path, "app/generated.py", "def total_amount_tax_rate_invoice(): pass\n")
    write(tmp_path, ".gitignore", "generated.py\n")
    write(
        tmp_path,
        "app/sibling.py",
        "def format_total(invoice, tax_rate):\n"
        "    return f'{invoice.total_amount(tax_rate):.2f}'\n",
    )
    write(tmp_path, "app/main.py", "")
    return tmp_path


def current(workspace: Path, text: str) -> Document:
    return Document(f"file://{workspace}/app/main.py", text, "python", 1, 1)


MAIN = (
    "from .models import Invoice\nfrom . import secret_settings\n\n"
    "def report(invoice: Invoice, tax_rate):\n    amount = invoice.total_amount(tax_rate)\n    "
)


def test_imports_and_folder_files_become_snippets(workspace: Path) -> None:
    excluder = Excluder((str(workspace),), ("**/secret_*.py", "**/.env"))
    index = NeighbourIndex((str(workspace),), excluder)
    document = current(workspace, MAIN)
    snippets = index.select(document, len(MAIN), [document], 0.0, 1000, count)
    paths = [s.path for s in snippets]
    assert "app/models.py" in paths and "app/sibling.py" in paths
    assert "app/secret_settings.py" not in paths  # excluded by a glob
    assert "app/generated.py" not in paths  # ignored by git
    assert all(s.score > 0 for s in snippets)
    assert [s.score for s in snippets] == sorted(s.score for s in snippets)  # best last


def test_excluded_and_ignored_files_are_never_opened(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    real_open = builtins.open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    excluder = Excluder((str(workspace),), ("**/secret_*.py", "**/.env"))
    index = NeighbourIndex((str(workspace),), excluder)
    document = current(workspace, MAIN)
    index.select(document, len(MAIN), [document], 0.0, 1000, count)
    assert not [p for p in opened if p.endswith(("secret_settings.py", ".env", "generated.py"))]


def test_excluded_open_document_is_not_used(workspace: Path) -> None:
    excluder = Excluder((str(workspace),), ("**/secret_*.py",), gitignore=False)
    index = NeighbourIndex((str(workspace),), excluder)
    secret = Document(f"file://{workspace}/app/secret_settings.py", MAIN * 3, "python", 1, 1)
    document = current(workspace, MAIN)
    snippets = index.select(document, len(MAIN), [document, secret], 0.0, 1000, count)
    assert "app/secret_settings.py" not in [s.path for s in snippets]


def open_documents(n: int) -> list[Document]:
    return [
        Document(
            f"file:///ws/m{i}.py",
            "\n".join(
                f"def handler_{i}(request, session_{i}):\n    return session_{i}.get(request, {j})"
                for j in range(40)
            ),
            "python",
            1,
            1,
        )
        for i in range(n)
    ]


def test_budget_dedup_and_limits() -> None:
    index = NeighbourIndex(("/ws",), Excluder(("/ws",), (), gitignore=False))
    others = open_documents(10)
    duplicate = Document("file:///ws/copy.py", others[0].text, "python", 1, 1)
    text = "def view(request, session_3):\n    return session_3.get(request)\n"
    document = Document("file:///ws/current.py", text, "python", 1, 1)
    snippets = index.select(document, len(text), [document, *others, duplicate], 0.0, 600, count)
    assert sum(count(s.text) + count(s.path) + 2 for s in snippets) <= 600
    assert len({s.text for s in snippets}) == len(snippets)
    assert len(snippets) <= MAX_SNIPPETS
    assert snippets


def test_an_open_file_too_large_for_a_neighbour_is_passed_over() -> None:
    # An open log or generated bundle: ranking its windows took seconds at every pause.
    index = NeighbourIndex(("/ws",), Excluder(("/ws",), (), gitignore=False))
    (useful,) = open_documents(1)
    repeated = useful.text + "\n"
    huge = Document(
        "file:///ws/huge.py", repeated * (MAX_FILE_BYTES // len(repeated) + 1), "python"
    )
    text = "def view(request, session_0):\n    return session_0.get(request)\n"
    document = Document("file:///ws/current.py", text, "python", 1, 1)
    snippets = index.select(document, len(text), [document, huge, useful], 0.0, 600, count)
    paths = [s.path for s in snippets]
    assert "m0.py" in paths and "huge.py" not in paths


def test_stable_while_typing_reranked_in_pauses_and_far_moves() -> None:
    store = DocumentStore()
    index = NeighbourIndex(("/ws",), Excluder(("/ws",), (), gitignore=False))
    store.edit_listeners.append(index.on_edit)
    for other in open_documents(4):
        store.open(other.uri, other.text, "python", 1)
    text = "def view(request, session_3):\n    x = 1\n" + "\n" * 200
    document = store.open("file:///ws/current.py", text, "python", 1)
    first = index.select(document, 10, store.all(), 100.0, 800, count)
    # Typing something that would rank differently: the selection stays while the person types.
    now = 100.0
    for version, char in enumerate(" handler_2(request) handler_1", start=2):
        offset = len("def view(request, session_3):\n    x = 1")
        position = document.position_at(offset)
        document = store.change(document.uri, [TextEdit(char, position, position)], version)
        now += 0.3
        assert index.select(document, offset, store.all(), now, 800, count) is first
    paused = index.select(document, offset, store.all(), now + 5.0, 800, count)
    assert paused != first
    far = index.select(document, len(document.text) - 1, store.all(), now + 5.1, 800, count)
    assert far is not paused  # re-ranked for the new place
    assert index.select(document, len(document.text) - 1, store.all(), now + 5.2, 800, count) is far


def test_unknown_scheme_and_empty_workspace() -> None:
    index = NeighbourIndex((), Excluder((), (), gitignore=False))
    document = Document("untitled:Untitled-1", "x = 1\n", "python", 1, 1)
    assert index.select(document, 3, [document], 0.0, 500, count) == ()


def test_an_imported_file_offers_the_api_of_the_names_the_file_imports(tmp_path: Path) -> None:
    helpers = "".join(f"def helper_{n}(value, n={n}):\n    return value * n\n\n" for n in range(40))
    write(
        tmp_path, "pkg/tools.py", helpers + "class Box:\n    def open(self, lid):\n        pass\n"
    )
    text = "from .tools import (\n    helper_39,\n    Box,\n)\n\ndef main():\n    "
    document = Document(f"file://{tmp_path}/pkg/main.py", text, "python", 1, 1)
    index = NeighbourIndex((str(tmp_path),), Excluder((str(tmp_path),), ()))
    # A budget for the API alone: with more, the file's last window joins it (see below).
    snippets = index.select(document, len(text), [document], 0.0, 60, count)
    api = next(s for s in snippets if s.score >= API_SCORE)
    assert api.path == "pkg/tools.py"
    # Only the names main.py imports (helper_39 is the file's 40th definition), members under
    # their class: the rest of the file's API would only crowd the budget.
    assert api.text.split("\n") == [
        "def helper_39(value, n=39):",
        "class Box:",
        "    def open(self, lid):",
    ]
    assert api.score > max((s.score for s in snippets if s is not api), default=0)


def test_a_file_comes_once_in_the_prompt_its_api_before_its_windows(tmp_path: Path) -> None:
    helpers = "".join(f"def helper_{n}(value, n={n}):\n    return value * n\n\n" for n in range(40))
    write(tmp_path, "pkg/tools.py", "def first(a):\n    return a\n\n" + helpers)
    text = "from .tools import first, helper_39\n\ndef main():\n    helper_38(helper_39(1))\n    "
    document = Document(f"file://{tmp_path}/pkg/main.py", text, "python", 1, 1)
    index = NeighbourIndex((str(tmp_path),), Excluder((str(tmp_path),), ()))
    snippets = index.select(document, len(text), [document], 0.0, 1000, count)
    assert [s.path for s in snippets] == ["pkg/tools.py"]
    lines = snippets[0].text.split("\n")
    # The API's `first`, which no window shows, leads; `helper_39`, which the window shows
    # whole, is not said twice.
    assert lines[0] == "def first(a):"
    assert lines.count("def helper_39(value, n=39):") == 1
    assert "    return value * n" in lines


def test_a_module_imported_whole_offers_its_api_as_far_as_the_cap(tmp_path: Path) -> None:
    helpers = "".join(f"def helper_{n}(value, n={n}):\n    return value * n\n\n" for n in range(40))
    write(tmp_path, "pkg/tools.py", helpers)
    text = "from . import tools\n\ndef main():\n    "
    document = Document(f"file://{tmp_path}/pkg/main.py", text, "python", 1, 1)
    index = NeighbourIndex((str(tmp_path),), Excluder((str(tmp_path),), ()))
    snippets = index.select(document, len(text), [document], 0.0, 1000, count)
    api = next(s for s in snippets if s.path == "pkg/tools.py")
    assert api.text.startswith("def helper_0(value, n=0):\ndef helper_1(value, n=1):")
    assert API_MAX_CHARS - 30 < len(api.text) <= API_MAX_CHARS
    # Imported whole, it says less of what comes next than names imported one by one.
    assert API_SCORE / 2 <= api.score < API_SCORE


def test_imported_names_used_around_the_cursor_lead_and_rank_their_file_first(
    tmp_path: Path,
) -> None:
    helpers = "".join(f"def helper_{n}(value, n={n}):\n    return value * n\n\n" for n in range(40))
    write(tmp_path, "pkg/tools.py", helpers)
    write(tmp_path, "pkg/a_shapes.py", helpers.replace("helper_", "shape_"))
    imports = (
        "from .a_shapes import shape_0, shape_1\nfrom .tools import helper_0, helper_1, helper_39\n"
    )
    filler = "".join(f"z_{n} = {n}\n" for n in range(12))  # the imports out of the cursor's lines
    text = imports + filler + "\ndef main(x):\n    y = helper_39(x)\n    "
    document = Document(f"file://{tmp_path}/pkg/main.py", text, "python", 1, 1)
    index = NeighbourIndex((str(tmp_path),), Excluder((str(tmp_path),), ()))
    # Room for the two APIs and no window (a window showing helper_39 would take its line).
    snippets = index.select(document, len(text), [document], 0.0, 100, count)
    apis = [s for s in snippets if s.score >= API_SCORE]
    assert [s.path for s in apis] == ["pkg/a_shapes.py", "pkg/tools.py"]  # best last
    assert apis[-1].text.split("\n")[0] == "def helper_39(value, n=39):"


def test_no_api_from_an_excluded_file(tmp_path: Path) -> None:
    write(tmp_path, "pkg/secret_tools.py", "def reveal(token):\n    return token\n")
    text = "from .secret_tools import reveal\n\n"
    document = Document(f"file://{tmp_path}/pkg/main.py", text, "python", 1, 1)
    excluder = Excluder((str(tmp_path),), ("**/secret_*.py",))
    index = NeighbourIndex((str(tmp_path),), excluder)
    snippets = index.select(document, len(text), [document], 0.0, 1000, count)
    assert all("reveal" not in s.text for s in snippets)


def test_a_small_imported_file_is_offered_whole_once(tmp_path: Path) -> None:
    write(tmp_path, "pkg/matcher.py", "def matcher(attrs):\n    return lambda obj: obj == attrs\n")
    text = "from .matcher import matcher\n\ndef where(items, attrs):\n    return "
    document = Document(f"file://{tmp_path}/pkg/main.py", text, "python", 1, 1)
    index = NeighbourIndex((str(tmp_path),), Excluder((str(tmp_path),), ()))
    snippets = index.select(document, len(text), [document], 0.0, 1000, count)
    whole = (tmp_path / "pkg/matcher.py").read_text()
    assert [s.text for s in snippets if s.path == "pkg/matcher.py"] == [whole.rstrip("\n") + "\n"]


def test_the_folder_sibling_that_does_the_same_is_found_among_many(tmp_path: Path) -> None:
    # 40 unrelated modules sort before the one sibling that holds the pattern the cursor needs.
    for n in range(40):
        write(
            tmp_path,
            f"lib/a_module_{n:02}.js",
            f"export default function a{n}(x) {{ return x; }}\n",
        )
    write(
        tmp_path,
        "lib/zfindWhere.js",
        "export default function findWhere(obj, attrs) {\n  return find(obj, matcher(attrs));\n}\n",
    )
    text = "import filter from './filter.js';\nexport default function where(obj, attrs) {\n  "
    document = Document(f"file://{tmp_path}/lib/where.js", text, "javascript", 1, 1)
    index = NeighbourIndex((str(tmp_path),), Excluder((str(tmp_path),), ()))
    snippets = index.select(document, len(text), [document], 0.0, 1000, count)
    assert "lib/zfindWhere.js" in [s.path for s in snippets]


def test_a_one_off_selection_leaves_the_kept_one(workspace: Path) -> None:
    index = NeighbourIndex((str(workspace),), Excluder((str(workspace),), ()))
    document = current(workspace, MAIN)
    kept = index.select(document, len(MAIN), [document], 0.0, 1000, count)
    small = index.select(document, len(MAIN), [document], 0.1, 20, count, one_off=True)
    assert small != kept
    assert index.select(document, len(MAIN), [document], 0.2, 1000, count) is kept


def test_a_fifo_in_the_folder_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")  # opening it for reading would block the server forever
    write(tmp_path, "sibling.py", "def view(request):\n    return request\n")
    text = "def view(request):\n    return "
    document = Document(f"file://{tmp_path}/main.py", text, "python", 1, 1)
    index = NeighbourIndex((str(tmp_path),), Excluder((str(tmp_path),), ()))
    snippets = index.select(document, len(text), [document], 0.0, 1000, count)
    assert [s.path for s in snippets] == ["sibling.py"]


def test_the_lines_nearest_the_cursor_rank_the_windows(tmp_path: Path) -> None:
    # The function's start talks about parsing; the lines just written are about rendering.
    write(
        tmp_path, "lib/parse.py", "def parse(source, tokens, grammar, lexer, cursor):\n    pass\n"
    )
    write(tmp_path, "lib/render.py", "def render(page, canvas):\n    return canvas.draw(page)\n")
    head = "def handle(source, tokens, grammar, lexer, cursor, page, canvas):\n"
    filler = "".join(f"    step_{i} = {i}\n" for i in range(20))
    text = head + filler + "    layout = canvas.measure(page)\n    "
    document = Document(f"file://{tmp_path}/lib/main.py", text, "python", 1, 1)
    index = NeighbourIndex((str(tmp_path),), Excluder((str(tmp_path),), ()))
    (best, *_) = reversed(index.select(document, len(text), [document], 0.0, 1000, count))
    assert best.path == "lib/render.py"


def test_a_file_on_disk_that_turned_binary_is_no_neighbour(tmp_path: Path) -> None:
    # Valid UTF-8, yet NUL bytes say binary: it must not reach the prompt.
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "helper.py").write_text("def handler_0(request, session_0):\x00\x00 binary\n")
    index = NeighbourIndex((str(workspace),), Excluder((str(workspace),), (), gitignore=False))
    text = "import helper\n\ndef view(request, session_0):\n    return handler_0(request)\n"
    document = Document((workspace / "main.py").as_uri(), text, "python", 1, 1)
    snippets = index.select(document, len(text), [document], 0.0, 600, count)
    assert "helper.py" not in [s.path for s in snippets]
