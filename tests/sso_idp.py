"""A local stand-in for the campus OpenID Connect provider (WUSTL Key): a real HTTP server.

It speaks the authorization-code flow as a real provider does: discovery document, a sign-in
page, a token endpoint (client secret and PKCE checked) answering an RS256-signed ID token
with the nonce it was given, a JWKS, userinfo and an end-session endpoint. Tests start it on a
free port and script what it asserts (`claims`) or how it misbehaves (`tamper`).

Try single sign-on with `make run`:

    .venv/bin/python -m tests.sso_idp --port 8900

prints the environment to start `make run` with, and the accounts it knows.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import html
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "eren-local"
CLIENT_SECRET = "eren-local-secret"
PASSWORD = "wustl-key"


def default_users() -> dict[str, dict[str, Any]]:
    return {
        "bear": {
            "sub": "wustl-1001",
            "email": "bear.key@wustl.edu",
            "name": "Bear Key",
            "affiliation": ["student"],
        },
        "staffer": {
            "sub": "wustl-2001",
            "email": "staffer.key@wustl.edu",
            "name": "Sam Staffer",
            "affiliation": ["staff", "member"],
        },
    }


@functools.cache
def _signing_key() -> rsa.RSAPrivateKey:
    """One key per process: generating one per test would cost more than the test."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class OidcIdp:
    host: str = "127.0.0.1"
    port: int = 0
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    users: dict[str, dict[str, Any]] = field(default_factory=default_users)
    # Extra or replaced ID-token claims (None removes one), for tests of bad tokens.
    claims: dict[str, Any] = field(default_factory=dict)
    # Called with the signed ID token, returns what is sent instead (e.g. a forged payload).
    tamper: Callable[[str], str] | None = None
    logouts: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._key = _signing_key()
        self._kid = secrets.token_hex(8)
        self._codes: dict[str, dict[str, Any]] = {}
        self._server: ThreadingHTTPServer | None = None

    # --- server ---------------------------------------------------------------------------

    def start(self) -> OidcIdp:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                idp._handle(self, "GET")

            def do_POST(self) -> None:
                idp._handle(self, "POST")

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # --- protocol -------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "end_session_endpoint": f"{self.url}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self._kid, "use": "sig", "alg": "RS256"}]}

    def id_token(self, *, username: str, nonce: str | None) -> str:
        user = self.users[username]
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.url,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            **user,
        }
        if nonce:
            payload["nonce"] = nonce
        for name, value in self.claims.items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        token = jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self._kid})
        return self.tamper(token) if self.tamper else token

    def sign_in_page(self, query: dict[str, str], error: str = "") -> bytes:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
        )
        message = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>WUSTL Key (stand-in)</title></head><body><main>"
            "<h1>WUSTL Key sign-in (local stand-in)</h1>"
            f"{message}<form method='post' action='/authorize'>{hidden}"
            "<label for='username'>WUSTL Key</label> <input id='username' name='username'> "
            "<label for='password'>Password</label> "
            "<input id='password' name='password' type='password'> "
            "<button type='submit'>Sign in</button></form></main></body></html>"
        ).encode()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        form: dict[str, str] = {}
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(handler.rfile.read(length).decode()))
        route = parsed.path
        if route == "/.well-known/openid-configuration":
            return self._json(handler, self.discovery())
        if route == "/jwks":
            return self._json(handler, self.jwks())
        if route == "/authorize" and method == "GET":
            if query.get("client_id") != self.client_id:
                return self._json(handler, {"error": "unauthorized_client"}, 400)
            return self._html(handler, self.sign_in_page(query))
        if route == "/authorize" and method == "POST":
            username = form.pop("username", "")
            password = form.pop("password", "")
            if username not in self.users or password != PASSWORD:
                return self._html(handler, self.sign_in_page(form, "Wrong WUSTL Key or password."))
            code = secrets.token_urlsafe(24)
            self._codes[code] = {"username": username, **form}
            target = (
                form["redirect_uri"]
                + "?"
                + urllib.parse.urlencode({"code": code, "state": form.get("state", "")})
            )
            return self._redirect(handler, target)
        if route == "/token" and method == "POST":
            grant = self._codes.pop(form.get("code", ""), None)  # a code works once
            if (
                grant is None
                or form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret
                or form.get("redirect_uri") != grant.get("redirect_uri")
            ):
                return self._json(handler, {"error": "invalid_grant"}, 400)
            if grant.get("code_challenge"):
                verifier = form.get("code_verifier", "").encode()
                challenge = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier).digest())
                    .rstrip(b"=")
                    .decode()
                )
                if challenge != grant["code_challenge"]:
                    return self._json(handler, {"error": "invalid_grant"}, 400)
            return self._json(
                handler,
                {
                    "access_token": secrets.token_urlsafe(24),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": self.id_token(username=grant["username"], nonce=grant.get("nonce")),
                },
            )
        if route == "/userinfo":
            return self._json(handler, {"error": "userinfo is not used by E-Ren"}, 400)
        if route == "/logout":
            self.logouts.append(query)
            back = query.get("post_logout_redirect_uri")
            if back:
                return self._redirect(handler, back)
            return self._html(handler, b"<!doctype html><title>Signed out</title><p>Signed out")
        return self._json(handler, {"error": "not_found"}, 404)

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, payload: dict, status: int = 200) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    @staticmethod
    def _html(handler: BaseHTTPRequestHandler, body: bytes, status: int = 200) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    @staticmethod
    def _redirect(handler: BaseHTTPRequestHandler, location: str) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


def main() -> None:
    parser = argparse.ArgumentParser(description="Local stand-in WUSTL Key (OpenID Connect).")
    parser.add_argument("--port", type=int, default=8900)
    args = parser.parse_args()
    idp = OidcIdp(port=args.port).start()
    print("Stand-in WUSTL Key (OpenID Connect) at", idp.url)
    print("Start E-Ren with:")
    print(
        f"  SSO_OIDC_ENABLED=true SSO_OIDC_ISSUER={idp.url} SSO_OIDC_CLIENT_ID={CLIENT_ID} "
        f"SSO_OIDC_CLIENT_SECRET={CLIENT_SECRET} make run"
    )
    print(f"Accounts (password {PASSWORD}):", ", ".join(sorted(idp.users)))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        idp.stop()


if __name__ == "__main__":
    main()
