"""A small identity provider for tests: signing keys, and their JWKS served over real HTTP on 127.0.0.1.

The server runs in a thread (``http.server``), so both an in-process verifier and a hub process can fetch
from it. ``rotate`` publishes a new key; ``requests`` counts the fetches the hub made.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "fieldsync"
ISSUER = "https://idp.test/"
JWKS_PATH = "/.well-known/jwks.json"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    @classmethod
    def new(cls, kid: str, algorithm: str = "RS256") -> SigningKey:
        if algorithm == "RS256":
            return cls(kid, algorithm, rsa.generate_private_key(public_exponent=65537, key_size=2048))
        if algorithm == "ES256":
            return cls(kid, algorithm, ec.generate_private_key(ec.SECP256R1()))
        raise ValueError(algorithm)

    def jwk(self) -> dict[str, Any]:
        codec = RSAAlgorithm if self.algorithm == "RS256" else ECAlgorithm
        return {**codec.to_jwk(self.private.public_key(), as_dict=True), "kid": self.kid, "use": "sig",
                "alg": self.algorithm}


class IdentityProvider:
    """Keys that sign tokens, and the JWKS document that publishes their public halves."""

    def __init__(self, *keys: SigningKey) -> None:
        self.published: list[SigningKey] = list(keys)
        self.requests = 0
        self.body: bytes | None = None
        """When set, served instead of the JWKS document (to serve garbage)."""
        self.status = 200
        self.delay = 0.0
        """Seconds each answer waits (a slow identity provider)."""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "serve() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{JWKS_PATH}"

    def rotate(self, key: SigningKey, *, keep: bool = True) -> None:
        """Publish ``key``; ``keep=False`` withdraws every key published before."""
        self.published = [*self.published, key] if keep else [key]

    def token(self, key: SigningKey, *, ttl_seconds: int = 600, **claims: Any) -> str:
        """A token signed with ``key``, with the hub's claims, ``aud`` and ``iss`` unless ``claims`` say otherwise."""
        payload = {"sub": "u1", "tenant": "acme", "device": "d1", "roles": ["technician"], "aud": AUDIENCE,
                   "iss": ISSUER, "exp": int(time.time()) + ttl_seconds, **claims}
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key.private, algorithm=key.algorithm, headers={"kid": key.kid})

    def document(self) -> bytes:
        return self.body if self.body is not None else json.dumps({"keys": [k.jwk() for k in self.published]}).encode()

    @contextmanager
    def serve(self, port: int = 0) -> Iterator[IdentityProvider]:
        """Serve the JWKS on 127.0.0.1:``port`` (0: a free one) until the block ends."""
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests += 1
                time.sleep(provider.delay)
                body = provider.document() if self.path == JWKS_PATH else b"not found"
                self.send_response(provider.status if self.path == JWKS_PATH else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="jwks", daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
