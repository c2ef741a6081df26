"""The answer of every domain check: allowed, or refused with a code and a readable reason."""

from __future__ import annotations

import msgspec

from conflict.codes import ViolationCode


class Verdict(msgspec.Struct, frozen=True):
    """Whether a change is allowed; when it is not, ``code`` says why in a form a device can act on."""

    allowed: bool
    code: ViolationCode | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


#: The one allowed verdict; refusals are built with ``refuse``.
ALLOWED = Verdict(True)


def refuse(code: ViolationCode, reason: str) -> Verdict:
    """A refusal with ``code`` and a reason meant for logs and for the device's user."""
    return Verdict(False, code, reason)
