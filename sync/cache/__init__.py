"""Cached answers for the REST API, per tenant, behind one small interface (``Cache``).

``InProcessCache`` for the embedded mode, ``RedisCache`` when hub nodes share Redis; ``CacheInvalidation``
attaches to the hub's events and invalidates a tenant when a merge changes one of its records.
"""

from __future__ import annotations

from sync.cache.base import Cache, CacheError
from sync.cache.extension import CacheInvalidation
from sync.cache.memory import InProcessCache
from sync.cache.redis import RedisCache

__all__ = ["Cache", "CacheError", "CacheInvalidation", "InProcessCache", "RedisCache"]
