"""The API-call line cases' drawing rule (benchmarks/crossfile/api_cases.py), without a model: a
small project per language written here, where a line that calls something defined in another
file is drawn and a call of a same-file function, a line with a comment or with two statements,
and a call into a file the caller cannot see are not."""

from __future__ import annotations

import textwrap
from pathlib import Path

from benchmarks.crossfile.api_cases import candidates, load_api_cases
from benchmarks.crossfile.packages import BY_NAME, Package
from benchmarks.crossfile.run import Outcome, masked, table


def project(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(source).lstrip("\n"))
    return root


def drawn(language: str, folder: str, root: Path) -> dict[str, tuple[str, str]]:
    """Each drawn line (its text) -> (kind, name)."""
    package = Package("demo", "0", "", "", (folder,), language=language, suite="api")
    return {case.expected: (case.kind, case.name) for case in candidates(package, root)}


GO = "usr/share/gocode/src/example.com/demo"


def test_go(tmp_path: Path) -> None:
    root = project(tmp_path, {
        f"{GO}/store.go": """
            package demo

            type Store struct{}

            func (s *Store) Post(n int) {}

            func helper(n int) int { return n }
            """,
        f"{GO}/util/double.go": """
            package util

            func Double(n int) int { return 2 * n }
            """,
        f"{GO}/app.go": """
            package demo

            import "example.com/demo/util"

            func local() int { return 1 }

            func Pay(s *Store) {
            \ts.Post(1)
            \tx := helper(2)
            \ty := local()
            \tz := util.Double(x)
            \ts.Post(y); s.Post(z)
            \ts.Post(3) // a comment
            \tmade := &Store{}
            \tmade.Post(4)
            \tif helper(5) > 0 {
            \t\treturn
            \t}
            \tif x > 0 { s.Post(6) }
            }
            """,
        f"{GO}/app_test.go": """
            package demo

            func testHelper() int { return helper(5) }
            """,
    })  # fmt: skip
    assert drawn("go", GO, root) == {
        "s.Post(1)": ("method", "Post"),
        "x := helper(2)": ("function", "helper"),
        "z := util.Double(x)": ("qualified", "Double"),
        "made.Post(4)": ("method", "Post"),
        "if helper(5) > 0 {": ("function", "helper"),
    }  # a block's header is a case; a one-line `if` with its body is not


def test_java(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "src/demo/Shape.java": """
            class Shape {
                void draw() {}
                static Shape unit() { return null; }
            }
            """,
        "src/demo/Circle.java": """
            class Circle extends Shape {
                void local() {}
                void run(Shape s) {
                    s.draw();
                    local();
                    draw();
                    Shape u = Shape.unit();
                    Shape n = new Shape();
                    s.draw(); draw();
                    while (Shape.unit() != null) {
                        break;
                    }
                }
            }
            """,
    })  # fmt: skip
    assert drawn("java", "src/demo", root) == {
        "s.draw();": ("method", "draw"),
        "draw();": ("inherited", "draw"),
        "Shape u = Shape.unit();": ("qualified", "unit"),
        "Shape n = new Shape();": ("constructor", "Shape"),
        "while (Shape.unit() != null) {": ("qualified", "unit"),
    }


def test_cpp_sees_only_included_headers(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "usr/include/demo/util.hpp": """
            namespace demo {
            inline int twice(int x) { return 2 * x; }
            struct Box {
                int size() const { return 1; }
            };
            }
            """,
        "usr/include/demo/other.hpp": """
            inline int lonely(int x) { return x; }
            """,
        "usr/include/demo/app.hpp": """
            #include <demo/util.hpp>
            namespace demo {
            inline int local(int x) { return x; }
            inline int run(const Box& b) {
                int a = twice(1);
                int c = local(2);
                int d = b.size();
                int e = lonely(3);
                int g = other::twice(4);
                return demo::twice(a + c + d + e);
            }
            struct DEMO_API Counter {
                int twice(int x) { return x; }
                int run() {
                    int t = twice(4);
                    return t;
                }
            };
            }
            """,
    })  # fmt: skip
    # `other::` is no namespace of the project; `twice(4)` inside Counter calls Counter's own
    # member (DEMO_API, an export macro, is not taken for the class's name)
    assert drawn("cpp", "usr/include/demo", root) == {
        "int a = twice(1);": ("function", "twice"),
        "int d = b.size();": ("method", "size"),
        "return demo::twice(a + c + d + e);": ("qualified", "twice"),
    }


def test_typescript_and_javascript(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "src/store.ts": """
            export class Store {
              post(n: number) {}
            }
            export function helper(n: number) { return n }
            """,
        "src/index.ts": """
            export * from "./store";
            """,
        "src/app.ts": """
            import { Store, helper } from "./index";
            import * as s from "./store";

            function local() { return 1 }

            export function pay(store: Store) {
              store.post(1);
              const x = helper(2);
              const y = local();
              s.helper(3);
              const t = new Store();
              helper(4); // a comment
              if (helper(5)) {
                return;
              } else if (helper(6)) {
                return;
              }
            }
            """,
        "lib/_double.js": """
            function double(n) { return 2 * n; }
            export default double;
            """,
        "lib/quad.js": """
            import double from './_double.js';
            function quad(n) {
              return double(double(n));
            }
            export default quad;
            """,
    })  # fmt: skip
    assert drawn("typescript", "src", root) == {
        "store.post(1);": ("method", "post"),
        "const x = helper(2);": ("function", "helper"),
        "s.helper(3);": ("qualified", "helper"),
        "const t = new Store();": ("constructor", "Store"),
        "if (helper(5)) {": ("function", "helper"),
    }  # `} else if (helper(6)) {` starts with the closing brace
    assert drawn("javascript", "lib", root) == {"return double(double(n));": ("function", "double")}


def test_python_calls_only(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/models.py": """
            class Store:
                size = 0

                def post(self, n):
                    return n


            def helper(n):
                return n
            """,
        "pkg/app.py": """
            from .models import Store, helper


            def local():
                return 1


            def pay(store: Store):
                store.post(1)
                made = Store()
                size = store.size
                x = local()
                return helper(x)  # a comment
            """,
    })  # fmt: skip
    assert drawn("python", "pkg", root) == {
        "store.post(1)": ("method", "post"),
        "made = Store()": ("constructor", "Store"),
    }  # an attribute is not a call; a same-file call and a commented line are not drawn


def test_the_whole_line_is_masked(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "src/a.ts": "export function f() { return 1 }\n",
        "src/b.ts": 'import { f } from "./a";\nfunction g() {\n    const x = f();\n}\n',
    })  # fmt: skip
    (case,) = candidates(
        Package("demo", "0", "", "", ("src",), language="typescript", suite="api"), root
    )
    assert (case.line, case.column, case.expected) == (3, 4, "const x = f();")
    document, cursor = masked((root / case.file).read_text(), case)
    assert document.split("\n")[2] == "    "
    assert document[:cursor].endswith("\n    ")


def test_table_has_a_row_per_language_and_no_invented_figure() -> None:
    def outcome(package: str, exact: bool) -> Outcome:
        return Outcome(case=f"{package}:x", column="base", kind="function", package=package,
                       completion="x", line="x", empty=False, exact=exact, invented=[],
                       keywords=[], seconds=1.0, judged=False)  # fmt: skip

    text = table([outcome("cobra", True), outcome("fmt", False)], ["base"])
    assert "| go (1) | 1.00 (1/1) | - | 1.00 |" in text
    assert "| cpp (1) | 0.00 (0/1) | - | 1.00 |" in text
    assert "does not parse" not in text  # no checker ran: no note of what it would have seen


def test_committed_api_cases() -> None:
    cases = load_api_cases()
    per_language: dict[str, int] = {}
    for case in cases:
        language = BY_NAME[case.package].language
        per_language[language] = per_language.get(language, 0) + 1
        assert BY_NAME[case.package].suite == "api"
        assert case.defining_file != case.file
        assert case.name in case.expected
    assert len({c.id for c in cases}) == len(cases)
    assert per_language["python"] >= 30 and per_language["go"] >= 30
    assert per_language["cpp"] >= 30 and per_language["java"] >= 30
    assert per_language["typescript"] + per_language["javascript"] >= 30
