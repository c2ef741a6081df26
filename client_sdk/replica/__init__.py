"""The device's local replica: one SQLite file with each record's document, the outbox, projections and scopes.

One module per table and concern: ``storage`` (the file, its schema, transactions), ``documents`` (CRDT
states), ``outbox`` (unacknowledged local updates, coalesced), ``projections`` (rows for local queries),
``follows`` (documents followed by name), ``scopes`` and ``scope_following`` (sync scopes and their members);
``local_replica`` runs each change across them in one transaction. Others use the names below.
"""

from __future__ import annotations

from client_sdk.replica.local_replica import LocalReplica
from client_sdk.replica.projections import DELETED_FIELD
from client_sdk.replica.scopes import ScopeChange, Subscription, subscription_id

__all__ = ["DELETED_FIELD", "LocalReplica", "ScopeChange", "Subscription", "subscription_id"]
