"""``python -m server``: the same as the ``fieldsync`` command."""

from __future__ import annotations

from server.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
