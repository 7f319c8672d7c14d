"""A fast keyed hash for client secrets.

Client secrets here are machine-generated (128 random characters from DOT's generator, and
Client.clean refuses short ones), so they have far more entropy than any guessing attack can
cover: a slow password hash adds nothing but ~0.5 s of CPU per token request, which is also a
denial-of-service lever. HMAC-SHA256 keyed with the SECRET_KEY (plus a per-secret salt) means a
leaked database alone does not even allow offline checking. Human-chosen passwords must never
use this hasher: it is listed in PASSWORD_HASHERS but never first, and is selected only by
OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"].
"""

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare, get_random_string


class ClientSecretHasher(BasePasswordHasher):
    algorithm = "client_secret_hmac"

    def salt(self):
        return get_random_string(16)

    @staticmethod
    def _digest(secret, salt, key):
        message = f"{salt}${secret}".encode()
        return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        return f"{self.algorithm}${salt}${self._digest(password, salt, settings.SECRET_KEY)}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        decoded = self.decode(encoded)
        # Accept digests made with a fallback key, so SECRET_KEY can be rotated.
        keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        matches = [constant_time_compare(self._digest(password, decoded["salt"], key), decoded["hash"]) for key in keys]
        return any(matches)

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"]),
            "hash": mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded):
        return False

    def harden_runtime(self, password, encoded):
        pass
