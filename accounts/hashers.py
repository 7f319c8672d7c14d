"""Password hashing parameters."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum: 19 MiB, 2 iterations, 1 lane.

    Django's defaults (100 MiB, t=2, p=8) cost ~0.3 s and 100 MiB per login on a 2-core
    machine, which caps logins at a handful per second and lets a burst of logins exhaust
    memory. OWASP's parameters (Password Storage Cheat Sheet) cost ~25 ms here and are still
    memory-hard. Hashes made with other parameters are upgraded at the next login.
    """

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
