"""What the HTTP backends share: one httpx client per backend, the mapping of every failure to a
`BackendError` a user can act on (with the server's Retry-After, which the backend host's backoff
honours), and incremental stream parsers.

Nothing here logs or echoes a prompt or a key: error messages name the server (without any
credentials in its URL), the status and what to do; the server's own error text goes to the debug
log only, because servers quote the request back.
"""

from __future__ import annotations

import email.utils
import json
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx

from .. import __version__
from ..config import BackendSettings, api_key, ca_bundle
from ..prompts import PromptFormat, pick_format
from .base import BackendError, Progress, Usage

log = logging.getLogger(__name__)

# A code action's chat prompt is long (the function, what it uses, a test run's output): a server
# on CPU may evaluate it for minutes before its first token, far past backend.timeoutMs, which is
# sized for completions. The person can cancel the action.
ACTION_READ_TIMEOUT_S = 300.0
# How much of an error body is read (for the debug log).
ERROR_BODY_LIMIT = 4096


def public_url(url: str | httpx.URL) -> str:
    """The URL without user:password and query, for messages."""
    parsed = httpx.URL(str(url))
    return str(parsed.copy_with(username=None, password=None, query=None, fragment=None))


class HttpClient:
    """One connection pool per backend; every request goes through `stream` or `get_json`."""

    def __init__(self, settings: BackendSettings, what: str):
        self.settings = settings
        self.what = what  # "the OpenAI-compatible server", ... for messages
        self.base_url = settings.effective_url
        self.shown_url = public_url(self.base_url)
        self.timeout_s = settings.timeout_ms / 1000
        headers = {"User-Agent": f"ghosttype/{__version__}"}
        self.has_key = False
        key = api_key(settings)
        if key:
            headers["Authorization"] = f"Bearer {key}"
            self.has_key = True
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(self.timeout_s),
            # HTTPS_PROXY / NO_PROXY / SSL_CERT_FILE / SSL_CERT_DIR from the environment.
            trust_env=True,
            verify=_ssl_context(),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
        )

    @asynccontextmanager
    async def stream(
        self, path: str, body: Mapping[str, Any], read_timeout_s: float | None = None
    ) -> AsyncIterator[httpx.Response]:
        """POSTs `body` and yields the streaming response once its status is OK. Any failure,
        before or during the caller's reading, leaves as a BackendError; leaving the block early
        (the caller closed or was cancelled) closes the connection, which stops the server.
        `read_timeout_s`: the wait for the server's bytes, where longer than the backend's."""
        read_s = max(self.timeout_s, read_timeout_s or 0)
        try:
            response = await self._send(path, body, read_timeout_s=read_s)
            try:
                if response.status_code >= 400:
                    raise await self._status_error(response)
                yield response
            finally:
                # Unread, this closes the connection: the server sees it and stops generating.
                await response.aclose()
        except (httpx.HTTPError, ssl.SSLError, OSError) as error:
            # The exception's own text may quote the URL with credentials: debug log only.
            log.debug("request to %s failed: %r", self.shown_url, error)
            raise self.map_error(error, read_s) from None

    async def _send(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        stream: bool = True,
        read_timeout_s: float | None = None,
    ) -> httpx.Response:
        method = "GET" if body is None else "POST"
        timeout = httpx.Timeout(self.timeout_s, read=read_timeout_s or self.timeout_s)
        request = self.client.build_request(method, path, json=body, timeout=timeout)
        try:
            return await self.client.send(request, stream=stream)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
            # A kept-alive connection that the server closed as we reused it (llama-server and
            # uvicorn drop idle ones after a few seconds): nothing was answered, so once more on
            # a fresh connection.
            log.debug("retrying on a fresh connection to %s: %r", self.shown_url, error)
            return await self.client.send(request, stream=stream)

    async def get_json(self, path: str) -> Any:
        """GET for `doctor` and discovery: the decoded JSON body, or a BackendError."""
        return await self._json(path, None)

    async def post_json(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST of a small request (a server's tokenizer): the decoded JSON body, or a
        BackendError."""
        return await self._json(path, body)

    async def _json(self, path: str, body: Mapping[str, Any] | None) -> Any:
        try:
            response = await self._send(path, body, stream=False)
            if response.status_code >= 400:
                raise await self._status_error(response)
            return response.json()
        except BackendError:
            raise
        except ValueError:
            raise self.malformed(f"{path} did not answer with JSON") from None
        except (httpx.HTTPError, ssl.SSLError, OSError) as error:
            raise self.map_error(error) from None

    async def close(self) -> None:
        await self.client.aclose()

    def malformed(self, detail: str) -> BackendError:
        return BackendError(
            f"{self.what} at {self.shown_url} sent a malformed answer: {detail}",
            "check that backend.kind matches the server (openai, llamacpp or ollama) "
            "and that backend.url points at it",
        )

    def failed_midway(self, detail: str | None) -> BackendError:
        """The server put an error into the stream after it had started answering."""
        log.debug("%s reported an error in its stream: %s", self.shown_url, detail)
        return BackendError(
            f"{self.what} at {self.shown_url} reported an error while generating",
            "look at the server's log (run with --log-level debug to see its message)",
        )

    def map_error(self, error: BaseException, read_timeout_s: float | None = None) -> BackendError:
        """A transport failure as a message with what to do. The text of `error` itself is not
        shown: it may quote the URL with credentials."""
        where = f"{self.what} at {self.shown_url}"
        host = httpx.URL(self.base_url).host
        if isinstance(error, httpx.ConnectTimeout):
            return BackendError(
                f"cannot connect to {where}: no answer within {self.timeout_s:g} s",
                "check that the server is running and reachable (firewall, VPN, HTTPS_PROXY)",
            )
        if isinstance(error, httpx.TimeoutException):
            return BackendError(
                f"{where} did not answer within {read_timeout_s or self.timeout_s:g} s",
                "the server may be overloaded or stuck; raise backend.timeoutMs if it is just slow",
            )
        if isinstance(error, httpx.ProxyError):
            return BackendError(
                f"the proxy refused the connection to {where}",
                "check HTTPS_PROXY / HTTP_PROXY, or add the host to NO_PROXY",
            )
        if _caused_by(error, ssl.SSLCertVerificationError):
            return BackendError(
                f"the TLS certificate of {where} is not trusted",
                "point SSL_CERT_FILE at your organisation's CA bundle",
            )
        if _caused_by(error, socket.gaierror):
            return BackendError(
                f"cannot find the host '{host}' of {where} (DNS lookup failed)",
                "check the host name in backend.url, or your network/DNS",
            )
        if _caused_by(error, ConnectionRefusedError) or "refused" in str(error).lower():
            return BackendError(
                f"{where} refused the connection: is it running?",
                "start the server, or fix the port in backend.url",
            )
        if isinstance(error, httpx.ConnectError):
            return BackendError(
                f"cannot connect to {where}",
                "check that the server is running and backend.url is right",
            )
        if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return BackendError(
                f"{where} closed the connection in the middle of an answer",
                "the server may have crashed or restarted; ghosttype retries on its own",
            )
        if isinstance(error, httpx.DecodingError):
            return self.malformed("the body could not be decoded")
        return BackendError(
            f"request to {where} failed ({type(error).__name__})",
            "run `ghosttype doctor` to check the backend",
        )

    async def _status_error(self, response: httpx.Response) -> BackendError:
        detail = await _read_limited(response)
        # The server's own words may quote the prompt: debug log only.
        log.debug("%s answered %s: %s", self.shown_url, response.status_code, detail)
        return status_error(
            response.status_code,
            response.headers,
            what=f"{self.what} at {self.shown_url}",
            model=self.settings.model,
            has_key=self.has_key,
            key_env=self.settings.api_key_env,
            path=response.request.url.path,
        )


def status_error(
    status: int,
    headers: Mapping[str, str],
    *,
    what: str,
    model: str,
    has_key: bool,
    key_env: str,
    path: str,
) -> BackendError:
    if status in (401, 403):
        if has_key:
            hint = f"check the key in the environment variable {key_env}"
        elif key_env:
            hint = f"the environment variable {key_env} is empty or unset"
        else:
            hint = "set backend.apiKeyEnv to the name of an environment variable holding the key"
        verb = "rejected the API key" if has_key else "needs an API key"
        return BackendError(f"{what} {verb} ({status})", hint)
    if status == 404:
        named = f"the model '{model}'" if model else "no model (backend.model is empty)"
        return BackendError(
            f"{what} answered 404 Not Found for {path} with {named}",
            "check backend.model against the server's model list (`ghosttype doctor`) and that "
            "backend.url is the base URL (without /v1)",
        )
    if status == 429:
        retry = parse_retry_after(headers.get("retry-after"))
        when = f"; retrying in {retry:g} s" if retry is not None else ""
        return BackendError(
            f"{what} is rate-limiting requests (429){when}",
            "completions pause until then; a higher debounce (completion.debounceMs) sends fewer",
            retry_after_s=retry,
        )
    if status == 503:
        return BackendError(
            f"{what} is unavailable (503): it may still be loading the model",
            "wait for it to finish starting",
            retry_after_s=parse_retry_after(headers.get("retry-after")),
        )
    if status >= 500:
        return BackendError(
            f"{what} failed with an internal error ({status})",
            "look at the server's log; ghosttype retries on its own",
        )
    return BackendError(
        f"{what} rejected the request ({status})",
        "the server may not support this request: check backend.kind and backend.promptFormat "
        "(run with --log-level debug to see the server's answer)",
    )


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (a number of seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def sse_events(
    response: httpx.Response, malformed: Callable[[str], BackendError]
) -> AsyncIterator[Any]:
    """The JSON payloads of a server-sent event stream, one per `data:` line as it arrives, until
    `[DONE]` or the end. `malformed(detail)` makes the error for a payload that is not JSON."""
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            # Comments (": ping"), `event:` and `id:` lines and the blank separators.
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        if not data:
            continue
        try:
            yield json.loads(data)
        except ValueError:
            raise malformed("an event was not JSON") from None


async def ndjson_events(
    response: httpx.Response, malformed: Callable[[str], BackendError]
) -> AsyncIterator[Any]:
    """One JSON value per line (Ollama's stream)."""
    async for line in response.aiter_lines():
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError:
            raise malformed("a line of the stream was not JSON") from None


class StopCutter:
    """Cuts streamed text at the first stop string, holding back a tail that might be the start
    of one, so no special token reaches the editor even when a server sends it as text."""

    def __init__(self, stops: tuple[str, ...]):
        self.stops = tuple(s for s in stops if s)
        self.held = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        text = self.held + piece
        cut = min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self.held = ""
            return text[:cut]
        keep = self._partial_tail(text)
        self.held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        held, self.held = self.held, ""
        return "" if self.stopped else held

    def _partial_tail(self, text: str) -> int:
        best = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(text)), best, -1):
                if text.endswith(stop[:size]):
                    best = size
                    break
        return best


class HttpBackend:
    """What the HTTP backends have in common: the client, the prompt format, the `name`."""

    what = "the server"
    kind = "http"

    def __init__(self, settings: BackendSettings):
        self.settings = settings
        self.http = HttpClient(settings, self.what)
        self.name = ""
        self.prompt_format: PromptFormat = pick_format(settings.prompt_format, settings.model)
        self.stops: tuple[str, ...] = ()
        self.use_model(settings.model)

    async def cut_stream(
        self,
        events: AsyncIterator[Any],
        piece_of: Callable[[Any], str],
        usage: Usage,
        done: Callable[[Any], bool] = lambda event: False,
    ) -> AsyncIterator[str]:
        """The text pieces of a stream of events, cut at the first stop string: the server stops
        at the model's end tokens, this catches any special token that still comes back as text."""
        cutter = StopCutter(self.stops)
        async for event in events:
            piece = cutter.feed(piece_of(event))
            if piece:
                usage.generated_tokens += 1
                yield piece
            if cutter.stopped or done(event):
                break
        tail = cutter.flush()
        if tail:
            yield tail

    def post(
        self, path: str, body: dict[str, Any], usage: Usage, read_timeout_s: float | None = None
    ) -> AbstractAsyncContextManager[httpx.Response]:
        """`http.stream(path, body)`, recording in `usage.sent` what goes out (the audit log)."""
        usage.sent = {"path": path, "body": body}
        return self.http.stream(path, body, read_timeout_s)

    def use_model(self, model: str) -> None:
        """Sets the model (also when it becomes known after start, discovered from the server)
        and what follows from it: the prompt format under "auto", the stop words, the name."""
        self.model = model
        self.prompt_format = pick_format(self.settings.prompt_format, model)
        fmt = self.prompt_format
        self.stops = tuple(dict.fromkeys(fmt.special_tokens + fmt.stop))
        shown = model or "(the server's default model)"
        self.name = f"{self.kind} {self.http.shown_url} model {shown}, format {self.format_name}"

    @property
    def format_name(self) -> str:
        return self.prompt_format.name

    def format_line(self) -> str:
        if self.settings.prompt_format != "auto":
            why = "set by backend.promptFormat"
        elif self.model:
            why = f"picked from the model name '{self.model}'"
        else:
            why = "the default: no model name to pick from"
        return f"prompt format: {self.format_name} ({why})"

    async def start(self, progress: Progress) -> None:
        return None

    def count_tokens(self, text: str) -> int | None:
        # No tokenizer at hand; asking the server would cost a round trip per count.
        return None

    async def close(self) -> None:
        await self.http.close()


def error_in_payload(payload: Any) -> str | None:
    """The error a server put into a stream event (`{"error": ...}`), for the debug log."""
    if isinstance(payload, dict) and payload.get("error"):
        return str(payload["error"])[:ERROR_BODY_LIMIT]
    return None


def _ssl_context() -> ssl.SSLContext | bool:
    bundle = ca_bundle()
    return ssl.create_default_context(cafile=bundle) if bundle else True


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


async def _read_limited(response: httpx.Response) -> str:
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= ERROR_BODY_LIMIT:
                break
        return b"".join(chunks)[:ERROR_BODY_LIMIT].decode("utf-8", "replace")
    except httpx.HTTPError:
        return ""
