"""`serve --tcp` binds to loopback unless told otherwise, and says so when it is told otherwise
(issue 28, boundaries)."""

from __future__ import annotations

import pytest

from ghosttype.cli import Failure, tcp_address


@pytest.mark.parametrize(
    "text, address",
    [
        ("2087", ("127.0.0.1", 2087)),
        ("127.0.0.1:2087", ("127.0.0.1", 2087)),
        ("localhost:2087", ("localhost", 2087)),
        ("[::1]:2087", ("::1", 2087)),
        ("127.0.0.2:9", ("127.0.0.2", 9)),
    ],
)
def test_loopback_is_the_default_and_is_served_quietly(text, address, capsys):
    assert tcp_address(text) == address
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("text", ["0.0.0.0:2087", "192.168.1.5:2087", "[::]:2087", "myhost:2087"])
def test_a_network_interface_is_one_warning_line_on_stderr(text, capsys):
    host, port = tcp_address(text)
    assert port == 2087
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warning" in err and "network interface" in err
    assert host in err


@pytest.mark.parametrize("text", ["", "host:", "host:port", "127.0.0.1:70000", ":0"])
def test_a_bad_address_is_a_failure(text):
    with pytest.raises(Failure):
        tcp_address(text)
