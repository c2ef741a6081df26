"""fieldsync's benchmark suite: the hub against pycrdt-websocket and a raw relay (see README.md here)."""
