"""What every action raises when it cannot be done."""

from __future__ import annotations


class ActionError(Exception):
    """What the person is told when an action cannot be done; nothing is written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
