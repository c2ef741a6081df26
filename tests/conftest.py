"""Shared fixtures live in tests/support; each module is registered here as a plugin."""

pytest_plugins = ["tests.support.databases", "tests.support.hub", "tests.support.redis_server", "tests.support.browser"]
