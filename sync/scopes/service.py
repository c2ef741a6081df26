"""The hub's scope service: every subscription of this node, kept current as projections change.

Changes are read back from the store by number (``projections_changed_since``), one feed per tenant with
subscriptions, so changes projected by any hub node reach this node's devices. This node's own saves wake
the feed at once (``changed``); the others are found by polling every ``scope_poll_ms``.

A feed's lock serialises a tenant's subscribes with its pushes. A subscribe reads the tenant's current
number first, then the members: whatever commits in between is in the members and pushed again later,
which is harmless, and nothing is missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from sync.access import AccessRules, Principal, load_rules
from sync.errors import StoreError
from sync.protocol import Stateless, encode_frame
from sync.protocol.control import SCOPES_DOCUMENT, ScopeMembers, encode_control
from sync.scopes.definitions import ResolvedScope, ScopeRegistry
from sync.protocol import Sender
from sync.scopes.subscription import ReadableScope, Subscription, resume_limit
from sync.store import Store

__all__ = ["ScopeService", "scopes_frame"]

log = logging.getLogger(__name__)

#: Changed projections read per query when catching up a feed.
FEED_BATCH = 1000


def scopes_frame(message: ScopeMembers) -> bytes:
    """The Stateless frame on ``$scopes`` carrying ``message``."""
    return encode_frame(Stateless(SCOPES_DOCUMENT, encode_control(message)))


class _Feed:
    """The subscriptions of one tenant and the last projection change pushed to them."""

    __slots__ = ("lock", "version", "subscriptions", "joining")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.version: int | None = None  # set by the first subscription
        self.subscriptions: set[Subscription] = set()
        self.joining = 0  # subscribes in progress: the feed stays while they run

    @property
    def unused(self) -> bool:
        return not self.subscriptions and not self.joining


class ScopeService:
    """Subscriptions of every connection of this hub node, by tenant."""

    def __init__(self, store: Store, registry: ScopeRegistry, *, poll_ms: float, rules: AccessRules | None = None) -> None:
        self.store = store
        self.registry = registry
        self.rules = rules or load_rules()
        self._poll_seconds = poll_ms / 1000
        self._feeds: dict[str, _Feed] = {}
        self._due: set[str] = set()
        self._wake = asyncio.Event()

    def resolve(self, principal: Principal, scope: str, params: dict[str, str]) -> ResolvedScope:
        """``ScopeRegistry.resolve``: raises ``ProtocolError`` or ``AuthError`` for a refused request."""
        return self.registry.resolve(principal, scope, params)

    @property
    def subscriptions(self) -> int:
        """How many subscriptions this node serves."""
        return sum(len(feed.subscriptions) for feed in self._feeds.values())

    async def subscribe(
        self, id: str, sink: Sender, principal: Principal, scope: ResolvedScope, version: int | None,
        accept: Callable[[Subscription], bool],
    ) -> Subscription | None:
        """Read the members of ``scope``, answer ``sink`` and start pushing changes to it.

        ``version`` is the one the device holds, if any: it gets a diff since then when that is cheaper than
        the whole list. ``accept`` is asked, just before the subscription starts, whether it is still wanted
        (the device may have unsubscribed meanwhile); the answer is sent only when it is. Raises ``StoreError``.
        """
        tenant = principal.tenant
        feed = self._feeds.get(tenant)
        if feed is None:
            feed = self._feeds[tenant] = _Feed()
        feed.joining += 1
        try:
            async with feed.lock:
                current = await self.store.projection_seq(tenant)
                members = await self.store.scope_members(tenant, ReadableScope(scope, self.rules, principal))
                subscription = Subscription(id, sink, principal, scope, members, current, self.rules)
                current = await self._catch_up(subscription)
                answer = await self._answer(subscription, version, current)
                if not accept(subscription):
                    return None
                feed.subscriptions.add(subscription)
                if feed.version is None:
                    feed.version = current
                sink.send(scopes_frame(answer))  # under the lock: before any push about this subscription
                return subscription
        finally:
            feed.joining -= 1
            self._forget_if_unused(tenant, feed)

    async def _catch_up(self, subscription: Subscription) -> int:
        """Bring the members, read after the tenant's number, to a number of their own; returns it.

        A change saved between the two reads may already be in the members without being numbered at or below
        the subscription's version: it would be skipped by the pushes and missing from a resume's diff. Taking
        in every change since that version (each one's latest state) makes the members exactly those of the
        last change read, whose number becomes the version.
        """
        while True:
            changes = await self.store.projections_changed_since(subscription.tenant, subscription.version,
                                                                limit=FEED_BATCH)
            if changes:
                subscription.apply(changes, changes[-1].seq)  # told in the answer, not pushed
            if len(changes) < FEED_BATCH:
                return subscription.version

    async def _answer(self, subscription: Subscription, version: int | None, current: int) -> ScopeMembers:
        if version is None or version > current:  # first time, or a version this store never gave
            return subscription.full()
        limit = resume_limit(len(subscription.members))
        changes = await self.store.projections_changed_since(subscription.tenant, version, limit=limit + 1)
        if len(changes) > limit:
            return subscription.full()
        # the members are those at ``current``: a change committed since then is not in them, and is pushed
        # next (numbered above ``current``), so a diff labelled ``current`` holds nothing newer
        return subscription.diff(change for change in changes if change.seq <= current)

    def remove(self, subscription: Subscription) -> None:
        """Stop pushing to ``subscription`` (unknown ones are ignored)."""
        feed = self._feeds.get(subscription.tenant)
        if feed is not None:
            feed.subscriptions.discard(subscription)
            self._forget_if_unused(subscription.tenant, feed)

    def _forget_if_unused(self, tenant: str, feed: _Feed) -> None:
        if feed.unused and self._feeds.get(tenant) is feed:
            del self._feeds[tenant]

    # -- pushes ------------------------------------------------------------------------------------

    def changed(self, tenants: Iterable[str]) -> None:
        """Projections of ``tenants`` were just saved by this node: push what they change, without waiting."""
        due = {tenant for tenant in tenants if tenant in self._feeds}
        if due:
            self._due |= due
            self._wake.set()

    async def run(self) -> None:
        """Push changes until cancelled: woken tenants at once, every tenant every ``scope_poll_ms``."""
        loop = asyncio.get_running_loop()
        sweep_at = loop.time() + self._poll_seconds
        while True:
            try:
                async with asyncio.timeout(max(0.0, sweep_at - loop.time())):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            due, self._due = self._due, set()
            if loop.time() >= sweep_at:
                due |= self._feeds.keys()
                sweep_at = loop.time() + self._poll_seconds
            for tenant in sorted(due):
                await self.poll(tenant)

    async def poll(self, tenant: str) -> None:
        """Push every change of ``tenant``'s projections since its feed's version to its subscriptions."""
        feed = self._feeds.get(tenant)
        if feed is None:
            return
        async with feed.lock:
            while feed.version is not None and feed.subscriptions:
                try:
                    changes = await self.store.projections_changed_since(tenant, feed.version, limit=FEED_BATCH)
                except StoreError as exc:  # the next poll tries again from the same version
                    log.warning("scope feed of %s: %s", tenant, exc.reason)
                    return
                if not changes:
                    return
                feed.version = changes[-1].seq
                for subscription in list(feed.subscriptions):
                    push = subscription.apply(changes, feed.version)
                    if push is not None:
                        subscription.sink.send(scopes_frame(push))
                if len(changes) < FEED_BATCH:
                    return
