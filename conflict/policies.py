"""Per-field merge policies, as data.

Yjs alone resolves two concurrent writes of one map key by client id, an arbitrary number. Our policies:

- ``LAST_WRITER_WINS_HLC``: the default for scalar fields of the ``record`` map. The write with the greater
  hybrid logical clock time wins, whatever the client or device ids. Writes carry their time in the
  ``clocks`` map (see ``conflict.stamps``).
- ``APPEND_ONLY``: the default for list roots. Every concurrent append is kept, nothing is removed; an item
  changes by appending a newer version with the same ``id``.
- ``ROLE_OWNED(roles)``: a scalar field, or a field of list entries, that only those roles may write; among
  their writes the last by HLC time wins, writes by anyone else are ignored and reverted.

Role-owned fields, and why:

- ``warranty_claim/internal.fraud_suspected``: claims_manager, admin. A fraud suspicion blocks payment and
  changes how a customer is treated; the person accountable for the claim's money decides. Automated detectors
  write it through a service token with the admin role.
- ``payments[].status`` (warranty and insurance claims): claims_manager, admin. Approving or marking a
  payment paid moves money. Anyone who may append a payment may append it as ``PENDING``.
- ``insurance_claim.adjuster``: claims_manager, admin. Assigning the adjuster is how managers route work;
  an adjuster does not pick or drop claims by editing the field.
- ``policy.annual_premium``, ``coverage_amount``, ``deductible``: agent, admin. These are the priced terms of
  the contract; a customer who can edit their own policy document must not be able to change them.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import msgspec


class MergeKind(StrEnum):
    LAST_WRITER_WINS_HLC = "last_writer_wins_hlc"
    APPEND_ONLY = "append_only"
    ROLE_OWNED = "role_owned"


class FieldPolicy(msgspec.Struct, frozen=True):
    """How a field merges, and who may write it (``owners``; empty means every writer)."""

    kind: MergeKind
    owners: frozenset[str] = frozenset()

    def allows(self, roles: Iterable[str]) -> bool:
        """Whether an author holding ``roles`` may write the field."""
        return not self.owners or not self.owners.isdisjoint(roles)

    def describe(self) -> str:
        if self.kind is MergeKind.ROLE_OWNED:
            return f"{self.kind} ({', '.join(sorted(self.owners))})"
        return str(self.kind)


LAST_WRITER_WINS_HLC = FieldPolicy(MergeKind.LAST_WRITER_WINS_HLC)
APPEND_ONLY = FieldPolicy(MergeKind.APPEND_ONLY)


def ROLE_OWNED(*roles: str) -> FieldPolicy:  # noqa: N802 - reads as the constant it builds
    """A field only ``roles`` may write; their writes merge last-writer-wins by HLC time."""
    if not roles:
        raise ValueError("a role-owned field needs at least one owner role")
    return FieldPolicy(MergeKind.ROLE_OWNED, frozenset(roles))
