"""Per language: the members the index finds, the receiver the cursor's scope resolves, and the
names a completion invents (real parses of small workspaces; see conftest.py)."""

from __future__ import annotations

from ghosttype.symbols import check_at

from .conftest import Workspace

LEDGER_PY = """
class Base:
    def close(self) -> None: ...

class Ledger(Base):
    rate = 3

    def __init__(self) -> None:
        self.entries: list[int] = []

    def post_entry(self, amount: int) -> None: ...
    def balance_of(self, account: str) -> int: ...
"""


def test_python_typed_parameter_inherited_member_and_field(workspace: Workspace) -> None:
    main = "from ledger import Ledger\n\ndef settle(store: Ledger):\n    store.‸\n"
    check = workspace.check({"ledger.py": LEDGER_PY, "main.py": main}, "main.py", "python")
    assert check.inventions("pay(10)") == ["pay"]
    assert check.inventions("post_entry(10)") == []
    assert check.inventions("close()") == []  # from the base class
    assert check.inventions("entries.append(1)") == []  # `self.entries =` in a method
    assert check.inventions("rate") == []  # a class attribute
    assert check.inventions("__class__") == []  # every object's


def test_python_dataclass_fields_self_and_constructor_in_scope(workspace: Workspace) -> None:
    main = """from dataclasses import dataclass

@dataclass
class Parcel:
    destination_zip: str
    weight: int = 0

    def label(self) -> str:
        return self.‸

def ship():
    p = Parcel("1")
    return p.weight
"""
    check = workspace.check({"main.py": main}, "main.py", "python")
    assert check.inventions("destination_zip") == []
    assert check.inventions("length") == ["length"]
    line = main.replace("self.‸", "self.weight").replace("p.weight", "p.‸")
    document, offset = workspace.open("main.py", line, "python")
    from ghosttype.symbols import check_at

    in_ship = check_at(workspace.index, document, offset, 0)
    assert in_ship is not None
    assert in_ship.inventions("length") == ["length"]
    assert in_ship.inventions("destination_zip") == []


def test_python_module_alias_relative_and_absolute(workspace: Workspace) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/models.py": "def make_parcel(): ...\nRATE = 1\n",
        "pkg/main.py": "from . import models\nimport pkg.models as m\n\nmodels.‸\n",
    }
    check = workspace.check(files, "pkg/main.py", "python")
    assert check.inventions("make_parcel()") == []
    assert check.inventions("RATE") == []
    assert check.inventions("build_parcel()") == ["build_parcel"]
    assert check.inventions("RATE\nm.make_parcel()\nm.nothing_here") == ["nothing_here"]


def test_python_environment_module_read_without_importing(workspace: Workspace) -> None:
    main = "import json\n\njson.‸\n"
    check = workspace.check({"main.py": main}, "main.py", "python")
    assert check.inventions("dumps(1)") == []
    assert check.inventions("stringify(1)") == ["stringify"]


def test_python_unresolved_receiver_is_left_free(workspace: Workspace) -> None:
    main = "def run(thing, other: 'Unknown'):\n    x = make()\n    x.‸\n"
    check = workspace.check({"main.py": main}, "main.py", "python")
    assert check.inventions("anything()") == []
    assert check.inventions("y\n    thing.whatever\n    other.whatever") == []


def test_python_bare_calls_defined_nowhere(workspace: Workspace) -> None:
    files = {"util.py": "def helper(): ...\n", "main.py": "def f():\n    ‸\n"}
    check = workspace.check(files, "main.py", "python")
    assert check.inventions("return helper()") == []
    assert check.inventions("return len([])") == []
    assert check.inventions("return frobnicate(1)") == ["frobnicate"]
    assert check.inventions("def inner():\n        pass\n    inner()") == []


def test_javascript_class_members_this_and_new(workspace: Workspace) -> None:
    files = {
        "models.js": "export class Parcel {\n  constructor(zip) { this.zip = zip; }\n"
        "  weigh() { return 1; }\n}\nexport function helper() {}\n",
        "main.js": "import * as models from './models';\nimport { Parcel } from './models';\n"
        "function f() {\n  const p = new Parcel('1');\n  p.‸\n}\n",
    }
    check = workspace.check(files, "main.js", "javascript")
    assert check.inventions("weigh()") == []
    assert check.inventions("zip") == []
    assert check.inventions("toString()") == []
    assert check.inventions("length") == ["length"]
    assert check.inventions("zip;\n  models.helper();\n  models.nope()") == ["nope"]
    assert check.inventions("zip;\n  console.log(1);\n  invented(2)") == ["invented"]


def test_typescript_typed_parameter_interface_and_extends(workspace: Workspace) -> None:
    files = {
        "shapes.ts": "export interface Named { name: string }\n"
        "export interface Shape extends Named { area(): number; }\n"
        "export class Box { constructor(private ledger: Ledger) {}\n  width = 1;\n"
        "  grow(): void { this.‸ }\n}\nclass Ledger { post(): void {} }\n",
    }
    check = workspace.check(files, "shapes.ts", "typescript")
    assert check.inventions("width") == []
    assert check.inventions("ledger.post()") == []
    assert check.inventions("ledger.pay()") == ["pay"]
    assert check.inventions("height") == ["height"]
    main = "import { Shape } from './shapes';\nfunction f(s: Shape) { return s.‸ }\n"
    check = workspace.check({"main.ts": main}, "main.ts", "typescript")
    assert check.inventions("area()") == []
    assert check.inventions("name") == []  # through `extends`
    assert check.inventions("perimeter()") == ["perimeter"]


def test_go_struct_fields_and_methods_by_receiver_across_files(workspace: Workspace) -> None:
    files = {
        "go.mod": "module example.com/shop\n",
        "parcel.go": "package shop\n\ntype Parcel struct {\n\tDestinationZip string\n}\n\n"
        "func NewParcel() *Parcel { return &Parcel{} }\n",
        "weigh.go": "package shop\n\nfunc (p *Parcel) Weight() int { return 1 }\n",
        "main.go": "package shop\n\nfunc run() {\n\tp := NewParcel()\n\tq := &Parcel{}\n"
        "\t_ = q\n\tp.‸\n}\n",
    }
    check = workspace.check(files, "main.go", "go")
    assert check.inventions("Weight()") == []
    assert check.inventions("DestinationZip") == []
    assert check.inventions("Length") == ["Length"]
    assert check.inventions("Weight()\n\tq.Height()") == ["Height"]
    assert check.inventions("Weight()\n\thandleRequest()") == ["handleRequest"]
    assert check.inventions('Weight()\n\tprintln(len("x"))') == []


def test_java_typed_parameter_var_new_field_and_superclass(workspace: Workspace) -> None:
    files = {
        "Base.java": "class Base { void close() {} }\n",
        "Ledger.java": "class Ledger extends Base { int total; void postEntry(int a) {} }\n",
        "Main.java": "class Main {\n  private Ledger ledger;\n  void run(Ledger store) {\n"
        "    var other = new Ledger();\n    store.‸\n  }\n}\n",
    }
    check = workspace.check(files, "Main.java", "java")
    assert check.inventions("postEntry(1);") == []
    assert check.inventions("close();") == []
    assert check.inventions("toString();") == []  # Object's
    assert check.inventions("pay(1);") == ["pay"]
    assert check.inventions("total;\n    other.pay();\n    ledger.post()") == ["pay", "post"]


def test_csharp_properties_and_extension_methods(workspace: Workspace) -> None:
    files = {
        "Ledger.cs": "namespace Shop {\n  public class Ledger {\n    public int Total { get; set; }\n"
        "    public void PostEntry(int a) {}\n  }\n"
        "  public static class LedgerExtensions {\n"
        "    public static int Twice(this Ledger l) => 2;\n  }\n}\n",
        "Main.cs": "namespace Shop {\n  class Main {\n    void Run(Ledger store) {\n"
        "      store.‸\n    }\n  }\n}\n",
    }
    check = workspace.check(files, "Main.cs", "csharp")
    assert check.inventions("PostEntry(1);") == []
    assert check.inventions("Total;") == []
    assert check.inventions("Twice();") == []
    assert check.inventions("ToString();") == []
    assert check.inventions("Pay(1);") == ["Pay"]
    # Being written (the member monitor's count): an extension method's start is a name too.
    assert check.invented_members("Twi") == 0 and check.invented_members("Pa") == 1


def test_cpp_members_declared_in_header_defined_out_of_class(workspace: Workspace) -> None:
    files = {
        "ledger.h": "class Ledger {\n public:\n  int total;\n  void post_entry(int a);\n};\n",
        "ledger.cpp": '#include "ledger.h"\nvoid Ledger::post_entry(int a) { this->‸ }\n',
    }
    check = workspace.check(files, "ledger.cpp", "cpp")
    assert check.inventions("total = a;") == []
    assert check.inventions("balance = a;") == ["balance"]
    main = '#include "ledger.h"\nvoid run() {\n  Ledger* store = new Ledger();\n  store->‸\n}\n'
    check = workspace.check({"main.cpp": main}, "main.cpp", "cpp")
    assert check.inventions("post_entry(1);") == []
    assert check.inventions("pay(1);") == ["pay"]


def test_a_class_with_a_base_the_index_cannot_see_is_left_free(workspace: Workspace) -> None:
    main = "from somewhere_else import Remote\n\nclass Local(Remote):\n    def f(self):\n"
    main += "        self.‸\n"
    check = workspace.check({"main.py": main}, "main.py", "python")
    assert check.inventions("anything()") == []


def test_names_the_person_typed_are_theirs(workspace: Workspace) -> None:
    main = "from ledger import Ledger\n\ndef settle(store: Ledger):\n    store.pa‸\n"
    check = workspace.check({"ledger.py": LEDGER_PY, "main.py": main}, "main.py", "python")
    assert check.inventions("y(1)") == ["pay"]  # the name the model completed
    main = "from ledger import Ledger\n\ndef settle(store: Ledger):\n    store.pay(1)‸\n"
    check = workspace.check({"ledger.py": LEDGER_PY, "main.py": main}, "main.py", "python")
    assert check.inventions("\n    x = 1") == []  # typed before the cursor: not the model's


def test_what_the_check_leaves_free_on_real_code(workspace: Workspace) -> None:
    """Shapes that made real code (this repository, asyncio) look invented before: `Any` and
    `object`, a narrowing isinstance, a base class whose `self` a subclass extends, a module that
    makes names at run time, a call of another module's function of a common name."""
    files = {
        "dynamic.py": "globals().update({'FLAG': 1})\n",
        "other.py": "class Result:\n    ok = True\n\ndef run() -> Result: ...\n",
        "main.py": """from typing import Any
import dynamic
import subprocess


class Mixin:
    def close(self):
        self.release()


class Lock(Mixin):
    def release(self): ...


def f(a: Any, b: object, c: Lock):
    done = subprocess.run(["true"])
    if isinstance(b, dict):
        ‸
""",
    }
    check = workspace.check(files, "main.py", "python")
    assert check.inventions("a.anything()") == []
    assert check.inventions("b.get('x')") == []
    assert check.inventions("dynamic.FLAG") == []
    assert check.inventions("done.returncode") == []
    assert check.inventions("c.acquire()") == ["acquire"]  # Lock has no subclass: checked
    line = files["main.py"].replace("        self.release()", "        self.‸release()")
    document, offset = workspace.open("main.py", line.replace("        ‸\n", ""), "python")
    from ghosttype.symbols import check_at

    in_mixin = check_at(workspace.index, document, offset, 0)
    assert in_mixin is not None and in_mixin.inventions("release()") == []


def test_a_qualified_type_resolves_through_its_module(workspace: Workspace) -> None:
    files = {
        "models.py": "class Parcel:\n    weight = 1\n",
        "main.py": "import models\n\ndef f(p: models.Parcel, q: 'other.Parcel'):\n    p.‸\n",
    }
    check = workspace.check(files, "main.py", "python")
    assert check.inventions("weight") == []
    assert check.inventions("length") == ["length"]
    assert check.inventions("weight\n    q.length") == []  # `other` is no module here


def test_self_in_a_base_class_may_use_its_subclasses_members(workspace: Workspace) -> None:
    """A template method calls a hook only a subclass defines: allowed; a name no class of the
    family has is still invented (before, such a `self` was left free altogether)."""
    main = """class Visitor:
    def visit(self, node):
        self.‸

class Printer(Visitor):
    def visit_Name(self, node): ...

class Deep(Printer):
    def visit_Call(self, node): ...
"""
    check = workspace.check({"main.py": main}, "main.py", "python")
    assert check.inventions("visit_Name(node)") == []
    assert check.inventions("visit_Call(node)") == []  # a subclass's subclass
    assert check.inventions("visit_Loop(node)") == ["visit_Loop"]
    guide = check.guide()
    assert guide is not None and {"visit", "visit_Name", "visit_Call"} <= guide[0]


def test_a_base_imported_under_another_name(workspace: Workspace) -> None:
    files = {
        "sansio.py": "class Request:\n    method = 'GET'\n    def url(self): ...\n",
        "wrappers.py": "from sansio import Request as _Base\n\nclass Request(_Base):\n"
        "    def json(self): ...\n",
        "main.py": "from wrappers import Request\n\ndef f(r: Request):\n    r.‸\n",
    }
    check = workspace.check(files, "main.py", "python")
    assert check.inventions("method") == []  # the aliased base's
    assert check.inventions("json()") == []
    assert check.inventions("body") == ["body"]


def test_a_module_cut_short_at_the_cursor_keeps_its_imports(workspace: Workspace) -> None:
    """A signature being typed (`node: nodes.`) can make the whole file one ERROR node for
    tree-sitter; the imports and definitions inside it still count."""
    files = {
        "nodes.py": "class Assign: ...\nclass Call: ...\n",
        "main.py": "from . import nodes\n\nclass V:\n    def visit(self, node: nodes.‸\n\n"
        "    def other(self):\n        return 1\n",
    }
    (workspace.root / "__init__.py").write_text("")
    check = workspace.check(files, "main.py", "python")
    guide = check.guide()
    assert guide is not None and {"Assign", "Call"} <= guide[0]
    assert check.inventions("Loop") == ["Loop"]


def test_a_module_that_only_reads_globals_is_checked(workspace: Workspace) -> None:
    files = {
        "uni.py": "Lu = 'A-Z'\n\ndef combine(*cats):\n    return ''.join(globals()[c] for c in cats)\n",
        "written.py": "for name in ('A', 'B'):\n    globals()[name] = name\n",
        "main.py": "import uni\nimport written\n\nx = uni.‸\n",
    }
    check = workspace.check(files, "main.py", "python")
    assert check.inventions("combine('Lu')") == []
    assert check.inventions("merge('Lu')") == ["merge"]
    assert check.inventions("combine('Lu') + written.C") == []  # names made at run time


def test_a_member_inside_an_f_string_or_a_template_literal(workspace: Workspace) -> None:
    """The editor closed the quote and the brace as the person opened them."""
    main = (
        "class Doc:\n    encoding = 'utf-8'\n\n    def head(self):\n"
        "        return f'<?xml encoding=\"{self.‸}\"?>'\n"
    )
    check = workspace.check({"main.py": main}, "main.py", "python")
    assert check.guide() is not None
    assert check.inventions("encoding") == []
    assert check.inventions("charset") == ["charset"]
    assert check.inventions("encoding} {{self.charset}}") == []  # `{{`: text, not code
    script = "class Doc {\n  encoding = 'utf-8';\n  head() {\n    return `${this.‸}`;\n  }\n}\n"
    check = workspace.check({"doc.js": script}, "doc.js", "javascript")
    assert check.inventions("charset") == ["charset"]
    assert check.inventions("encoding") == []


def test_typescript_super_is_the_class_and_its_bases(workspace: Workspace) -> None:
    files = {
        "subject.ts": "export class Subject {\n  next(value: number): void {}\n}\n",
        "replay.ts": "import { Subject } from './subject';\n\nexport class Replay extends Subject {\n"
        "  next(value: number): void {\n    super.‸\n  }\n}\n",
    }
    check = workspace.check(files, "replay.ts", "typescript")
    assert check.inventions("next(value);") == []
    assert check.inventions("emit(value);") == ["emit"]


def test_members_set_in_new_and_imported_in_a_class_body(workspace: Workspace) -> None:
    """Shapes from the standard library's email package that a `self` resolved through a class
    and its subclasses met: `self = super().__new__(cls)` then `self.defects = []`, and a method
    imported in the class body."""
    files = {
        "iterators.py": "def walk(self): ...\n",
        "main.py": """class Terminal(str):
    def __new__(cls, value, token_type):
        self = super().__new__(cls, value)
        self.defects = []
        return self

    from iterators import walk

    def show(self):
        return self.‸

class Word(Terminal): ...
""",
    }
    check = workspace.check(files, "main.py", "python")
    assert check.inventions("defects") == []
    assert check.inventions("walk()") == []
    assert check.inventions("token_kind") == ["token_kind"]


def test_an_imported_class_is_the_one_its_import_names(workspace: Workspace) -> None:
    """Classes are indexed by name; where two files declare a `Request`, the file's import says
    which one a parameter typed `Request` is (httpx's, not urllib's with its `data`)."""
    files = {
        "stdlib_request.py": "class Request:\n    def __init__(self):\n        self.data = b''\n",
        "models.py": "class Request:\n    def read(self) -> bytes: ...\n    content = b''\n",
        "main.py": "from models import Request\n\ndef sign(request: Request):\n    request.‸\n",
    }
    check = workspace.check(files, "main.py", "python")
    assert check.inventions("content") == []
    assert check.inventions("data") == ["data"]
    guide = check.guide()
    assert guide is not None and "data" not in guide[0] and "read" in guide[0]
    # A class the file declares itself is its own, not every class of that name.
    files["main.py"] = (
        "class Request:\n    content = b''\n\ndef sign(request: Request):\n    request.‸\n"
    )
    check = workspace.check(files, "main.py", "python")
    assert check.inventions("content") == []
    assert check.inventions("data") == ["data"] and check.inventions("read()") == ["read"]


def test_typescript_a_symbol_keyed_member_leaves_the_class_checkable(workspace: Workspace) -> None:
    """rxjs's Observable has `[Symbol_observable]()`: no `.` reaches it, so the class's members
    are still all known (before, any computed name left the class and its subclasses free)."""
    files = {
        "observable.ts": "export class Observable {\n  [Symbol_observable]() { return this; }\n"
        "  ['quoted']() {}\n  pipe(): Observable { return this; }\n}\n",
        "subject.ts": "import { Observable } from './observable';\n\n"
        "export class Subject extends Observable {\n  next(v: number): void {\n    this.‸\n  }\n}\n",
    }
    check = workspace.check(files, "subject.ts", "typescript")
    assert check.inventions("pipe();") == []
    assert check.inventions("quoted();") == []
    assert check.inventions("add(v);") == ["add"]


def test_a_docstring_or_a_block_comment_is_prose_not_code(workspace: Workspace) -> None:
    """Names in prose are words: nothing is checked or guided there, in any line of it; the
    code after it is checked again."""
    module = (
        'class Ledger:\n    def close(self):\n        """Closes it.\n\n'
        "        Call self.‸ first, then\n        self.open() again.\n"
        '        """\n        self.close()\n'
    )
    workspace.write({"ledger.py": module})
    document, offset = workspace.open("ledger.py", module, "python")
    assert check_at(workspace.index, document, offset, 0) is None
    last = document.text.index('        """\n') + 8
    assert check_at(workspace.index, document, last, 0) is None  # before the closing quotes
    after = check_at(workspace.index, document, document.text.rindex("close()"), 0)
    assert after is not None and after.inventions("flush()") == ["flush"]
    script = "class Doc {\n  /* a comment\n     this.‸\n  */\n  head() { return this.x; }\n}\n"
    workspace.write({"doc.js": script})
    document, offset = workspace.open("doc.js", script, "javascript")
    assert check_at(workspace.index, document, offset, 0) is None
    after = check_at(workspace.index, document, document.text.rindex("x;"), 0)
    assert after is not None and after.inventions("y") == ["y"]
