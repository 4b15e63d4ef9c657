"""The protocol keeps nothing per notification (in-process: the state is pygls' own)."""

from lsprotocol import types

from ghosttype.lsp.server import GhosttypeServer


def test_handled_notifications_leave_no_futures_behind():
    # pygls 2.1 files a future per notification handled by a generator handler and never drops
    # it: a keystroke's didChange kept ~2 KB for the server's life.
    protocol = GhosttypeServer().protocol
    close = {
        "jsonrpc": "2.0",
        "method": types.TEXT_DOCUMENT_DID_CLOSE,
        "params": {"textDocument": {"uri": "file:///tmp/example.py"}},
    }
    for _ in range(100):
        protocol.handle_message(protocol.structure_message(close))
    assert protocol.pending_requests == 0
