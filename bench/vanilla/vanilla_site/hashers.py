"""The tuned vanilla profile's hashers (VANILLA_PROFILE=tuned; see settings.py).

- `SecretSHA256Hasher`: one salted SHA-256, for client secrets only, selected with DOT's
  `CLIENT_SECRET_HASHER` setting (DOT: "the hasher for storing generated secrets"; any name
  in PASSWORD_HASHERS). DOT generates 128-character random secrets, so key stretching buys
  nothing against guessing; one hash per check costs what ours' HMAC check costs.
- `Argon2idOWASPHasher`: user passwords with Argon2id at OWASP's minimum (19 MiB, t=2, p=1),
  the parameters ours uses, so that the browser flow compares the same work per login.
"""

import hashlib

from django.contrib.auth.hashers import Argon2PasswordHasher, BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare


class SecretSHA256Hasher(BasePasswordHasher):
    algorithm = "secret_sha256"

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        digest = hashlib.sha256((salt + password).encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm  # noqa: S101 (Django's own hashers do the same)
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"]),
            "hash": mask_hash(decoded["hash"]),
        }

    def harden_runtime(self, password, encoded):
        pass


class Argon2idOWASPHasher(Argon2PasswordHasher):
    algorithm = "argon2"  # the same encoded format as Django's; only the cost parameters differ
    time_cost = 2
    memory_cost = 19456
    parallelism = 1
