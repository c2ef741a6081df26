"""One root for every error the SDK raises on purpose; refusals and timeouts carry what the app needs."""

from __future__ import annotations

import pytest

import client_sdk
from client_sdk import (
    AuthRejected, ClientError, HubProtocolError, LinkDead, RecordError, RecordNotFound, ReplicaError, SyncError,
    SyncFailed, SyncTimeout,
)


@pytest.mark.parametrize("error", [AuthRejected, HubProtocolError, LinkDead, RecordError, RecordNotFound,
                                   ReplicaError, SyncFailed, SyncTimeout])
def test_every_sdk_error_is_a_client_error_defined_in_one_module(error: type[Exception]) -> None:
    assert issubclass(error, ClientError)
    assert error.__module__ == "client_sdk.errors"


def test_a_refusal_carries_its_code_message_and_document() -> None:
    refused = SyncFailed("forbidden", "not for customers", document="warranty_claim:WC-1/internal")
    assert (refused.code, refused.message, refused.document) == (
        "forbidden", "not for customers", "warranty_claim:WC-1/internal")
    assert "forbidden" in str(refused) and "warranty_claim:WC-1/internal" in str(refused)
    token = AuthRejected("token_invalid", "token_invalid: bad signature")
    assert isinstance(token, SyncFailed) and token.code == "token_invalid"


def test_a_timeout_is_still_a_timeout_error() -> None:
    error = SyncError(code="unreachable", message="cannot reach the hub")
    timeout = SyncTimeout("offline after 1 s", pending={"work_order:WO-1": 2}, unsynced=["work_order:WO-1"],
                          last_error=error)
    with pytest.raises(TimeoutError):
        raise timeout
    assert timeout.pending == {"work_order:WO-1": 2} and timeout.last_error is error


def test_the_package_exports_every_error() -> None:
    errors = {name for name in client_sdk.__all__ if isinstance(getattr(client_sdk, name), type)
              and issubclass(getattr(client_sdk, name), Exception)}
    assert errors == {"AuthRejected", "ClientError", "HubProtocolError", "LinkDead", "RecordError", "RecordNotFound",
                      "ReplicaError", "SyncFailed", "SyncTimeout"}
