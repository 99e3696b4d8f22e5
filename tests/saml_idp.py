"""A local stand-in for the campus SAML 2.0 identity provider (WUSTL Key): a real HTTP server.

It takes the SP's AuthnRequest over the HTTP-Redirect binding, shows a sign-in page, and posts
a Response whose Assertion is signed (RSA-SHA256, xmlsec through python3-saml) back to the
SP's assertion consumer service over the HTTP-POST binding. Single logout answers a
LogoutRequest with a LogoutResponse. Tests script what it asserts and how it misbehaves
(unsigned, tampered, wrong audience, expired, no subject) and read the last response back to
replay it.

    .venv/bin/python -m tests.saml_idp --port 8901

prints the environment to start `make run` with.
"""

from __future__ import annotations

import argparse
import base64
import functools
import html
import secrets
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.etree import ElementTree

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from tests.sso_idp import PASSWORD

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"
EMAIL = "urn:oid:0.9.2342.19200300.100.1.3"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
SUBJECT_ID = "urn:oasis:names:tc:SAML:attribute:subject-id"


def default_users() -> dict[str, dict[str, Any]]:
    return {
        "bear": {
            SUBJECT_ID: "wustl-1001",
            EMAIL: "bear.key@wustl.edu",
            DISPLAY_NAME: "Bear Key",
            AFFILIATION: ["student", "member"],
        },
    }


@functools.cache
def _certificate() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "WUSTL Key stand-in")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SamlIdp:
    host: str = "127.0.0.1"
    port: int = 0
    users: dict[str, dict[str, Any]] = field(default_factory=default_users)
    sign_assertion: bool = True
    # Tests: the audience to assert (default: the SP's entity ID from the request), a shift of
    # the validity window, no subject at all, or a change to the signed XML.
    audience: str | None = None
    shift: timedelta = timedelta(0)
    omit_subject: bool = False
    tamper: Callable[[str], str] | None = None
    last_response: str = ""
    last_acs_url: str = ""
    last_relay_state: str = ""
    logouts: list[str] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._key_pem, self.certificate_pem = _certificate()
        self._server: ThreadingHTTPServer | None = None

    @property
    def entity_id(self) -> str:
        return f"{self.url}/metadata"

    @property
    def sso_url(self) -> str:
        return f"{self.url}/sso"

    @property
    def slo_url(self) -> str:
        return f"{self.url}/slo"

    def start(self) -> SamlIdp:
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

    def response(self, *, username: str, request_xml: str) -> tuple[str, str]:
        """The base64 SAMLResponse for an AuthnRequest, and the ACS URL it goes to."""
        request = ElementTree.fromstring(request_xml)  # noqa: S314 (the SP's own request)
        request_id = request.get("ID", "")
        acs_url = request.get("AssertionConsumerServiceURL", "")
        sp_entity_id = request.findtext(f"{{{SAML}}}Issuer") or ""
        now = datetime.now(UTC) + self.shift
        user = self.users[username]
        attributes = "".join(
            f'<saml:Attribute Name="{html.escape(name)}" '
            'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">'
            + "".join(
                f"<saml:AttributeValue>{html.escape(str(value))}</saml:AttributeValue>"
                for value in (values if isinstance(values, list) else [values])
            )
            + "</saml:Attribute>"
            for name, values in user.items()
            if not (self.omit_subject and name == SUBJECT_ID)
        )
        name_id = (
            ""
            if self.omit_subject
            else '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">'
            f"{html.escape(str(user[SUBJECT_ID]))}</saml:NameID>"
        )
        assertion_id = "_a" + secrets.token_hex(16)
        assertion = (
            f'<saml:Assertion xmlns:saml="{SAML}" ID="{assertion_id}" Version="2.0" '
            f'IssueInstant="{_instant(now)}">'
            f"<saml:Issuer>{html.escape(self.entity_id)}</saml:Issuer>"
            f"<saml:Subject>{name_id}"
            '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f'<saml:SubjectConfirmationData NotOnOrAfter="{_instant(now + timedelta(minutes=5))}" '
            f'Recipient="{html.escape(acs_url)}" InResponseTo="{html.escape(request_id)}"/>'
            "</saml:SubjectConfirmation></saml:Subject>"
            f'<saml:Conditions NotBefore="{_instant(now - timedelta(seconds=30))}" '
            f'NotOnOrAfter="{_instant(now + timedelta(minutes=5))}">'
            "<saml:AudienceRestriction><saml:Audience>"
            f"{html.escape(self.audience or sp_entity_id)}"
            "</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
            f'<saml:AuthnStatement AuthnInstant="{_instant(now)}" '
            f'SessionIndex="_s{secrets.token_hex(8)}">'
            "<saml:AuthnContext><saml:AuthnContextClassRef>"
            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
            f"<saml:AttributeStatement>{attributes}</saml:AttributeStatement>"
            "</saml:Assertion>"
        )
        if self.sign_assertion:
            signed = OneLogin_Saml2_Utils.add_sign(assertion, self._key_pem, self.certificate_pem)
            assertion = signed.decode() if isinstance(signed, bytes) else signed
            assertion = assertion.removeprefix('<?xml version="1.0"?>').strip()
        response = (
            f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" '
            f'ID="_r{secrets.token_hex(16)}" Version="2.0" IssueInstant="{_instant(now)}" '
            f'Destination="{html.escape(acs_url)}" InResponseTo="{html.escape(request_id)}">'
            f"<saml:Issuer>{html.escape(self.entity_id)}</saml:Issuer>"
            '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
            f"</samlp:Status>{assertion}</samlp:Response>"
        )
        if self.tamper:
            response = self.tamper(response)
        return base64.b64encode(response.encode()).decode(), acs_url

    def sign_in_page(self, fields: dict[str, str], error: str = "") -> bytes:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in fields.items()
        )
        message = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>WUSTL Key (SAML stand-in)</title></head><body><main>"
            "<h1>WUSTL Key sign-in (local SAML stand-in)</h1>"
            f"{message}<form method='post' action='/sso'>{hidden}"
            "<label for='username'>WUSTL Key</label> <input id='username' name='username'> "
            "<label for='password'>Password</label> "
            "<input id='password' name='password' type='password'> "
            "<button type='submit'>Sign in</button></form></main></body></html>"
        ).encode()

    @staticmethod
    def post_page(acs_url: str, saml_response: str, relay_state: str) -> bytes:
        """The HTTP-POST binding: a form the person sends on to E-Ren (no script needed)."""
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Back to E-Ren</title></head><body><main><h1>Signed in</h1>"
            f"<form method='post' action='{html.escape(acs_url)}'>"
            f"<input type='hidden' name='SAMLResponse' value='{saml_response}'>"
            f"<input type='hidden' name='RelayState' value='{html.escape(relay_state)}'>"
            "<button type='submit'>Continue to E-Ren</button></form></main></body></html>"
        ).encode()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        form: dict[str, str] = {}
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(handler.rfile.read(length).decode()))
        if parsed.path == "/sso" and method == "GET":
            fields = {k: v for k, v in query.items() if k in {"SAMLRequest", "RelayState"}}
            return self._send(handler, 200, self.sign_in_page(fields))
        if parsed.path == "/sso" and method == "POST":
            username, password = form.pop("username", ""), form.pop("password", "")
            if username not in self.users or password != PASSWORD:
                return self._send(
                    handler, 200, self.sign_in_page(form, "Wrong WUSTL Key or password.")
                )
            request_xml = OneLogin_Saml2_Utils.decode_base64_and_inflate(form["SAMLRequest"])
            saml_response, acs_url = self.response(
                username=username,
                request_xml=request_xml.decode() if isinstance(request_xml, bytes) else request_xml,
            )
            self.last_response, self.last_acs_url = saml_response, acs_url
            self.last_relay_state = form.get("RelayState", "")
            return self._send(
                handler, 200, self.post_page(acs_url, saml_response, self.last_relay_state)
            )
        if parsed.path == "/slo":
            logout = OneLogin_Saml2_Utils.decode_base64_and_inflate(query.get("SAMLRequest", ""))
            logout_xml = logout.decode() if isinstance(logout, bytes) else logout
            self.logouts.append(logout_xml)
            request = ElementTree.fromstring(logout_xml)  # noqa: S314
            return self._send(
                handler,
                200,
                b"<!doctype html><title>Signed out</title>"
                + (f"<p>Signed out of {html.escape(request.get('ID', ''))}".encode()),
            )
        return self._send(handler, 404, b"not found")

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser(description="Local stand-in WUSTL Key (SAML 2.0).")
    parser.add_argument("--port", type=int, default=8901)
    args = parser.parse_args()
    idp = SamlIdp(port=args.port).start()
    cert = "".join(idp.certificate_pem.strip().splitlines()[1:-1])
    print("Stand-in WUSTL Key (SAML 2.0) at", idp.url)
    print("Start E-Ren with:")
    print(
        f"  SSO_SAML_ENABLED=true SSO_SAML_IDP_ENTITY_ID={idp.entity_id} "
        f"SSO_SAML_IDP_SSO_URL={idp.sso_url} SSO_SAML_IDP_SLO_URL={idp.slo_url} "
        f"SSO_SAML_IDP_X509_CERT={cert} make run"
    )
    print(f"Accounts (password {PASSWORD}):", ", ".join(sorted(idp.users)))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        idp.stop()


if __name__ == "__main__":
    main()
