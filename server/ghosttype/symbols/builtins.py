"""What each language has without a definition in the workspace: Python's builtins (read from
the running interpreter), the members every class inherits, and the globals a bare call may
name in JavaScript and Go. Bare calls are checked only in the languages listed in CALLABLE."""

from __future__ import annotations

import builtins

PYTHON_NAMES = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__", "__spec__"}
# Python's builtin classes (bases like `dict`, `Exception`) by name, with their members.
PYTHON_CLASSES: dict[str, frozenset[str]] = {
    name: frozenset(dir(value)) for name, value in vars(builtins).items() if isinstance(value, type)
}
_OBJECT = frozenset(dir(object))
_JAVA_OBJECT = frozenset(
    "equals hashCode toString getClass notify notifyAll wait clone finalize".split()
)
_CSHARP_OBJECT = frozenset(
    "ToString Equals GetHashCode GetType MemberwiseClone ReferenceEquals Finalize".split()
)
# Bases every index knows without a source: name -> members.
KNOWN_BASES: dict[str, dict[str, frozenset[str]]] = {
    "python": {
        **PYTHON_CLASSES,
        "Generic": _OBJECT,
        "Protocol": _OBJECT,
        "ABC": _OBJECT,
        "NamedTuple": PYTHON_CLASSES["tuple"]
        | {"_asdict", "_replace", "_fields", "_make", "_field_defaults"},
        "TypedDict": PYTHON_CLASSES["dict"],
    },
    "java": {
        "Object": _JAVA_OBJECT,
        "Record": _JAVA_OBJECT,
        "Enum": _JAVA_OBJECT
        | frozenset(
            "name ordinal compareTo values valueOf getDeclaringClass describeConstable".split()
        ),
    },
    "csharp": {
        "object": _CSHARP_OBJECT,
        "ValueType": _CSHARP_OBJECT,
        "Enum": _CSHARP_OBJECT | frozenset("HasFlag CompareTo GetTypeCode".split()),
    },
    "js": {},
    "go": {},
    "cpp": {},
}
# Members every class of the family has besides what it declares.
IMPLICIT_MEMBERS: dict[str, frozenset[str]] = {
    "python": _OBJECT
    | {"__dict__", "__weakref__", "__module__", "__annotations__", "__match_args__", "__slots__"}
    | {"__dataclass_fields__", "__dataclass_params__", "__wrapped__", "__name__", "__qualname__"}
}

_GO = """append cap clear close complex copy delete imag len make max min new panic print println
real recover bool byte complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune
string uint uint8 uint16 uint32 uint64 uintptr any"""
_JS = """require import eval isFinite isNaN parseFloat parseInt decodeURI decodeURIComponent
encodeURI encodeURIComponent escape unescape setTimeout setInterval clearTimeout clearInterval
setImmediate clearImmediate queueMicrotask structuredClone fetch alert confirm prompt atob btoa
Array ArrayBuffer BigInt Boolean DataView Date Error EvalError Function Map Number Object Promise
Proxy RangeError ReferenceError RegExp Set String Symbol SyntaxError TypeError URIError WeakMap
WeakSet WeakRef URL URLSearchParams TextEncoder TextDecoder AbortController Blob FormData Headers
Request Response Event EventTarget CustomEvent Worker Buffer Intl JSON Math Reflect console
describe it test expect beforeEach afterEach beforeAll afterAll jest vi suite define
requestAnimationFrame cancelAnimationFrame getComputedStyle matchMedia"""
# Names a bare call may use in a language where the workspace, its imports and these say all
# that exists (Java, C# and C++ inherit and include more than the index sees: not checked).
CALLABLE: dict[str, frozenset[str]] = {
    "python": PYTHON_NAMES,
    "go": frozenset(_GO.split()),
    "js": frozenset(_JS.split()),
}
# Words that a `(` may follow without being a call of a name.
KEYWORDS = frozenset(
    """if elif while for switch catch return yield await assert not and or in is lambda
    def class function func new typeof sizeof alignof decltype super this self print with except
    match case throw throws delete void else do try using lock fixed foreach when where sizeof
    synchronized defer go select""".split()
)
