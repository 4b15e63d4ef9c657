"""What the real-model tests share."""

from __future__ import annotations

import pytest

from ghosttype.backends.embedded import EmbeddedBackend
from ghosttype.config import BackendSettings


@pytest.fixture(scope="module")
async def backend():
    """The embedded backend in this process, one thread (greedy answers repeat), a module's own."""
    embedded = EmbeddedBackend(BackendSettings(threads=1))
    await embedded.start(lambda message: None)
    yield embedded
    await embedded.close()
