"""Command line: `serve` (the LSP server), `complete PATH:LINE:COL`, `doctor [--json]`.

Exit codes: 0 success, 1 failure with a one-line reason on stderr, 2 usage error. No traceback
reaches a user unless --log-level debug."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import (
    SCHEMA,
    BackendSettings,
    Layer,
    Settings,
    describe,
    read_toml,
    resolve,
    shown_value,
    workspace_layer,
)
from .languages import language_of

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger("ghosttype")


class Failure(Exception):
    """A failure the user can act on: printed as one line, exit code 1."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, metavar="FILE", help="a TOML settings file")
    common.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="what to log on stderr (default: warning)",
    )
    parser = argparse.ArgumentParser(
        prog="ghosttype",
        description="AI ghost-text completions for any editor, over LSP.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"ghosttype {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve", parents=[common], help="run the LSP server on stdio (what editors start)"
    )
    serve.add_argument(
        "--tcp",
        metavar="[HOST:]PORT",
        help="listen on TCP instead of stdio (HOST defaults to 127.0.0.1: loopback only)",
    )
    # Many generic LSP clients append --stdio: it is the default anyway.
    serve.add_argument("--stdio", action="store_true", help=argparse.SUPPRESS)
    complete = commands.add_parser(
        "complete",
        parents=[common],
        help="complete a file on disk at PATH:LINE:COL (1-based) and print the completion",
    )
    complete.add_argument("location", metavar="PATH:LINE:COL")
    doctor = commands.add_parser(
        "doctor", parents=[common], help="check the model, the backend, the grammars, the settings"
    )
    doctor.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object on stdout instead of lines (for scripts and health checks)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    command = args.command or "serve"
    # doctor --json: stdout holds one JSON object whatever happens, a failure before the checks
    # included (its reason in "error", and on stderr as always).
    as_json = command == "doctor" and args.json
    try:
        if command == "serve":
            return serve(args.config, getattr(args, "tcp", None))
        if command == "complete":
            return complete(args.location, args.config)
        return doctor(args.config, as_json)
    except Failure as failure:
        print(f"ghosttype: {failure}", file=sys.stderr)
        if as_json:
            print(json.dumps(DoctorReport(error=str(failure)).as_json()))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if args.log_level == "debug":
            raise
        print(
            f"ghosttype: unexpected error: {error} (rerun with --log-level debug)", file=sys.stderr
        )
        if as_json:
            print(json.dumps(DoctorReport(error=f"unexpected error: {error}").as_json()))
        return 1


def serve(config: Path | None, tcp: str | None) -> int:
    if config is not None and not config.is_file():
        raise Failure(f"--config {config}: no such file")
    from .lsp.server import create_server  # pygls costs ~0.8 s to import: only when serving

    # A late $/cancelRequest (the reply already sent) is normal; pygls warns about each one, and
    # editors log a server's stderr as errors.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("pygls.protocol.json_rpc").setLevel(logging.ERROR)
    server = create_server(config)
    if tcp:
        host, port = tcp_address(tcp)
        server.start_tcp(host, port)
    else:
        server.start_io()
    return 0


def tcp_address(text: str) -> tuple[str, int]:
    """`--tcp [HOST:]PORT`: a bare port listens on loopback only. Any other host serves the code
    the editor sends to whoever can reach that interface, so it is said on stderr."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise Failure(f"--tcp expects [HOST:]PORT, got {text!r}")
    if not _loopback(host):
        print(
            f"ghosttype: warning: listening on {host}:{port}, a network interface: code from the"
            " editor will be served to anyone who can reach it (use 127.0.0.1 for this machine)",
            file=sys.stderr,
        )
    return host, int(port)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


@dataclass(frozen=True)
class Location:
    path: Path
    line: int  # 1-based
    column: int  # 1-based, in characters


def parse_location(text: str) -> Location:
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise Failure(f"expected PATH:LINE:COL with 1-based numbers, got {text!r}")
    line, column = int(parts[1]), int(parts[2])
    if line < 1 or column < 1:
        raise Failure(f"LINE and COL count from 1, got {line}:{column}")
    return Location(Path(parts[0]), line, column)


def workspace_root(path: Path) -> Path:
    """The enclosing git root, else the file's folder."""
    folder = path.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def settings_for(root: Path | None, config: Path | None) -> Settings:
    settings, warnings = settings_and_warnings(root, config)
    for warning in warnings:
        print(f"ghosttype: warning: {warning}", file=sys.stderr)
    return settings


def settings_and_warnings(
    root: Path | None, config: Path | None
) -> tuple[Settings, tuple[str, ...]]:
    layers: list[Layer] = []
    if root is not None:
        layer, problem = workspace_layer(root)
        if problem:
            log.warning(problem)
        layers += [layer] if layer else []
    if config is not None:
        if not config.is_file():
            raise Failure(f"--config {config}: no such file")
        layer, problem = read_toml(config)
        if problem:
            raise Failure(problem)
        layers += [layer] if layer else []
    resolved = resolve(layers)
    return resolved.settings, resolved.warnings


def read_source(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Failure(f"{path}: no such file") from None
    except IsADirectoryError:
        raise Failure(f"{path}: is a folder, not a file") from None
    except OSError as error:
        raise Failure(f"{path}: cannot read ({error.strerror})") from None
    if b"\x00" in data[:65536]:
        raise Failure(f"{path}: looks like a binary file; nothing to complete")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Failure(
            f"{path}: not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None


def complete(location_text: str, config: Path | None) -> int:
    location = parse_location(location_text)
    text = read_source(location.path)
    from .documents import Document

    document = Document(location.path.resolve().as_uri(), text, language_of(location.path))
    if location.line > document.line_count:
        raise Failure(
            f"{location.path} has {document.line_count} lines; line {location.line} is past the end"
        )
    # Like the LSP server (an LSP position past the end of its line means the line's end): the
    # column is clamped, and the person told, since a typo in COL completes somewhere else.
    line_length = len(document.line(location.line - 1))
    column = location.column
    if column > line_length + 1:
        print(
            f"ghosttype: note: column {column} is past the end of line {location.line} of "
            f"{location.path} ({line_length} characters); completing at its end",
            file=sys.stderr,
        )
        column = line_length + 1
    root = workspace_root(location.path)
    settings = settings_for(root, config)
    offset = document.line_starts[location.line - 1] + column - 1
    return asyncio.run(_complete(settings, root, document, offset))


async def _complete(settings: Settings, root: Path, document: object, offset: int) -> int:
    from .documents import Document
    from .engine import Engine

    assert isinstance(document, Document)
    engine = Engine(settings, status=_print_progress, workspace_root=root)
    try:
        error = await engine.wait_ready()
        if error is not None:
            raise Failure(str(error))
        opened = engine.documents.open(document.uri, document.text, document.language_id, 0)
        reply = await engine.complete(opened, offset, invoked=True)  # the store's snapshot
        if reply.source == "error":
            raise Failure(engine.last_error() or "the backend failed")
        if reply.items:
            sys.stdout.write(reply.items[0].text + "\n")
        return 0
    finally:
        await engine.close()


def _print_progress(state: str, message: str) -> None:
    if state == "loading":
        log.info(message)


@dataclass(frozen=True)
class Check:
    """One `doctor` check. `name` is stable (scripts key on it); `lines` are what the text form
    prints after ok/FAIL, one or more."""

    name: str
    ok: bool
    lines: tuple[str, ...]


@dataclass
class DoctorReport:
    """What `doctor` found; `as_json` is the documented `doctor --json` shape."""

    checks: list[Check] = field(default_factory=list)
    settings: Settings | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(check.ok for check in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "version": __version__,
            "checks": [
                {"name": check.name, "ok": check.ok, "detail": "; ".join(check.lines)}
                for check in self.checks
            ],
            "settings": None if self.settings is None else settings_json(self.settings),
            "warnings": list(self.warnings),
            "error": self.error,
        }


def settings_json(settings: Settings) -> dict[str, dict[str, Any]]:
    """The settings in force in the schema's own shape (sections of camelCase keys), so the object
    reads like a settings file. No secrets: backend.apiKeyEnv is a variable's name, and a URL is
    shown without the credentials some put in it."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value

    return {
        section: {
            key: plain(shown_value(section, key, getattr(settings.section(section), attribute)))
            for key, (attribute, _) in entries.items()
        }
        for section, entries in SCHEMA.items()
    }


def doctor(config: Path | None, as_json: bool = False) -> int:
    root = workspace_root(Path.cwd() / "ghosttype.toml")
    if not as_json:
        settings = settings_for(root, config)
        print(f"ghosttype {__version__}")
        report = asyncio.run(_doctor(settings, _print_check))
        for line in describe(settings):
            print(f"     {line}")
        return 0 if report.ok else 1
    settings, warnings = settings_and_warnings(root, config)
    for warning in warnings:
        print(f"ghosttype: warning: {warning}", file=sys.stderr)
    # Whatever the checks print (a native library writing to fd 1 included) goes to stderr, so
    # stdout holds only the JSON object.
    with _stdout_to_stderr():
        report = asyncio.run(_doctor(settings, lambda check: None))
    report.settings, report.warnings = settings, warnings
    print(json.dumps(report.as_json()))
    return 0 if report.ok else 1


def _print_check(check: Check) -> None:
    for line in check.lines:
        print(f"{'ok  ' if check.ok else 'FAIL'} {line}", flush=True)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


async def _doctor(settings: Settings, show: Callable[[Check], None]) -> DoctorReport:
    """Runs the checks in order; `show` sees each as it is made (the text form prints as it
    goes: the model load takes seconds)."""
    doctor_report = DoctorReport()

    def report(name: str, ok: bool, *lines: str) -> None:
        check = Check(name, ok, lines)
        doctor_report.checks.append(check)
        show(check)

    from .config import pause_role
    from .engine import Engine

    pause = pause_role(settings)
    await _model_checks(settings.backend, "", report)
    if pause is not None:
        await _model_checks(pause, "pause-", report)
    engine = Engine(settings)
    try:
        await _backend_check(engine, settings.backend, "", report)
        if pause is None:
            report(
                "pause-backend",
                True,
                f"pause role: off (pauseBackend.kind = "
                f"{settings.pause_backend.kind!r}): the backend answers pauses and invoked "
                "requests",
            )
        else:
            await _backend_check(engine, pause, "pause-", report)
    finally:
        await engine.close()
    ok, line = await asyncio.to_thread(_grammars)
    report("grammars", ok, line)
    from .audit import audit_log_check

    report("audit-log", *audit_log_check(settings.backend.audit_log))
    return doctor_report


Report = Callable[..., None]


async def _model_checks(backend: BackendSettings, role: str, report: Report) -> None:
    """An embedded role's model file (assembled, SHA-256 verified) and whether it evaluates here.
    `role`: "" for the typing role, "pause-" for the pause role (check names and lines)."""
    model_file: Path | None = None
    shown = f"{role.replace('-', ' ')}model file"
    if backend.kind == "embedded" and not backend.model_path:
        from .backends.base import BackendError
        from .backends.model_store import model_named, verify

        try:
            model_file, size, matches = await asyncio.to_thread(verify, backend.model or "")
            model = model_named(backend.model or "")
            report(
                f"{role}model-file",
                matches,
                f"{shown} {model_file} ({size:,} bytes, SHA-256 "
                f"{'verified' if matches else 'MISMATCH: expected ' + model.sha256})",
            )
        except BackendError as error:
            report(f"{role}model-file", False, f"{shown}: {error}")
    if backend.kind == "embedded":
        checked = await asyncio.to_thread(_evaluation_check, model_file or backend.model_path)
        if checked is not None:
            ok, line = checked
            report(f"{role}model-evaluates", ok, f"{role.replace('-', ' ')}{line}")


async def _backend_check(
    engine: Engine, backend: BackendSettings, role: str, report: Report
) -> None:
    """Starts a role's backend and reports what it says about itself."""
    pause = role == "pause-"
    shown = f"{'pause backend' if pause else 'backend'} {backend.kind}"
    try:
        failed = await (engine.wait_pause_ready() if pause else engine.wait_ready())
        if failed is not None:
            report(f"{role}backend", False, f"{shown}: {failed}")
            return
        lines = await (engine.check_pause_backend() if pause else engine.check_backend())
        if backend.kind == "embedded":
            lines = [*lines, _gpu_offload(backend.gpu_layers, pause)]
        report(f"{role}backend", True, *(f"{shown}: {line}" for line in lines))
        if not pause:
            report("prompt-format", True, f"prompt format: {engine.prompt_format_name()}")
    except Exception as failure:
        report(f"{role}backend", False, f"{shown}: {failure}")


def _evaluation_check(model_file: Path | str | None) -> tuple[bool, str] | None:
    """(ok, line): can llama.cpp evaluate a prompt with this model file? None: no file to try
    (the backend's start reports that)."""
    path = Path(model_file).expanduser() if model_file else None
    if path is None or not path.is_file():
        return None
    from .backends.embedded import evaluation_failure

    failure = evaluation_failure(path)
    return failure is None, f"model evaluates a prompt: {failure or 'yes'}"


def _gpu_offload(layers: int, pause: bool = False) -> str:
    """Can this llama.cpp build offload to a GPU, and how many layers backend.gpuLayers (or
    pauseBackend.gpuLayers) asks for."""
    asked = {-1: "-1 (all layers)", 0: "0 (CPU only)"}.get(layers, str(layers))
    try:
        from llama_cpp import llama_supports_gpu_offload

        can = "yes" if llama_supports_gpu_offload() else "no (a CPU-only llama.cpp build)"
    except (ImportError, OSError) as error:
        can = f"unknown ({error})"
    return f"GPU offload: {can}; {'pauseBackend' if pause else 'backend'}.gpuLayers = {asked}"


def _grammars() -> tuple[bool, str]:
    names = [
        "python",
        "javascript",
        "typescript",
        "tsx",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "csharp",
        "ruby",
        "php",
        "swift",
        "kotlin",
        "lua",
        "bash",
    ]
    try:
        from tree_sitter_language_pack import get_parser
    except ImportError as error:
        return False, f"tree-sitter grammars: {error}"
    missing = []
    for name in names:
        try:
            get_parser(name)  # type: ignore[arg-type]
        except Exception:
            missing.append(name)
    if missing:
        return False, f"tree-sitter grammars: cannot load {', '.join(missing)}"
    return True, f"tree-sitter grammars: {len(names)} languages load"
