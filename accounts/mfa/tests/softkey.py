"""A software WebAuthn authenticator for tests without a browser: an ES256 key, "none"
attestation, authenticator data with the flags asked for. It builds what a browser sends
(clientDataJSON with the origin given), so the server's real verification (py_webauthn) runs;
the browser suite uses Chromium's own virtual authenticator instead."""

import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url

from accounts.mfa.webauthn import ceremony

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


class SoftAuthenticator:
    def __init__(self, *, backup_eligible=False, user_verification=True, counter=True):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.backup_eligible = backup_eligible
        self.user_verification = user_verification
        self.counter = counter
        self.sign_count = 0
        self.user_handle = None

    @property
    def id(self):
        return bytes_to_base64url(self.credential_id)

    def create(self, options, *, origin=None):
        """The browser's answer to navigator.credentials.create(options) (JSON text)."""
        self.user_handle = options["user"]["id"]
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        auth_data = self._auth_data(options["rp"]["id"], attested=True)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        response = {
            "clientDataJSON": bytes_to_base64url(client_data),
            "attestationObject": bytes_to_base64url(attestation),
            "transports": ["internal"],
        }
        return self._credential(response)

    def get(self, options, *, origin=None, user_verification=None, sign_count=None, rp_id=None):
        """The browser's answer to navigator.credentials.get(options) (JSON text)."""
        if self.counter:
            self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        uv = self.user_verification if user_verification is None else user_verification
        auth_data = self._auth_data(rp_id or options["rpId"], attested=False, uv=uv)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": bytes_to_base64url(client_data),
            "authenticatorData": bytes_to_base64url(auth_data),
            "signature": bytes_to_base64url(signature),
            "userHandle": self.user_handle,
        }
        return self._credential(response)

    def _credential(self, response):
        return json.dumps(
            {"id": self.id, "rawId": self.id, "type": "public-key", "response": response, "clientExtensionResults": {}}
        )

    def _client_data(self, kind, challenge, origin):
        origin = origin or ceremony.relying_party()[1]
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()

    def _auth_data(self, rp_id, *, attested, uv=None):
        uv = self.user_verification if uv is None else uv
        flags = UP | (UV if uv else 0) | (BE | BS if self.backup_eligible else 0) | (AT if attested else 0)
        data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + self.sign_count.to_bytes(4, "big")
        if attested:
            data += bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self._cose_key()
        return data

    def _cose_key(self):
        numbers = self.key.public_key().public_numbers()
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y})
