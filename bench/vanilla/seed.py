"""Seed the vanilla baseline through the ORM, the way DOT's tutorial does (run by bench/systems/vanilla.py).

Creates users, a client-credentials application, a trusted (skip_authorization)
authorization-code application, and a pool of refresh tokens: AccessToken and RefreshToken
rows as DOT's own validator writes them (opaque tokens from DOT's generator). The pool is made
here rather than through the token endpoint because each vanilla exchange costs two PBKDF2
hashes (~1 s of CPU); the benchmarked refresh requests themselves go through the API.

    DJANGO_SETTINGS_MODULE=vanilla_site.settings python seed.py SPEC.json OUT.json
SPEC: {"users": [{"username", "password"}], "redirect_uri", "pool_size", "pool_file"}
"""

import json
import os
import sys
import uuid
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.generators import generate_client_secret  # noqa: E402
from oauth2_provider.models import AccessToken, Application, RefreshToken  # noqa: E402
from oauthlib.common import generate_token  # noqa: E402


def main():
    with open(sys.argv[1]) as file:
        spec = json.load(file)
    User = get_user_model()
    users = [User.objects.create_user(u["username"], password=u["password"]) for u in spec["users"]]

    cc_secret = generate_client_secret()
    cc = Application.objects.create(
        name="bench-cc",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=cc_secret,  # hashed on save with the default hasher (PBKDF2)
    )
    web_secret = generate_client_secret()
    web = Application.objects.create(
        name="bench-web",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=spec["redirect_uri"],
        skip_authorization=True,
        client_secret=web_secret,
    )

    now = timezone.now()
    with transaction.atomic(), open(spec["pool_file"], "w") as pool:
        for start in range(0, spec["pool_size"], 1000):
            batch = range(start, min(start + 1000, spec["pool_size"]))
            access = AccessToken.objects.bulk_create(
                AccessToken(
                    user=users[i % len(users)],
                    application=web,
                    token=generate_token(),
                    expires=now + timedelta(hours=10),
                    scope="read",
                )
                for i in batch
            )
            refresh = RefreshToken.objects.bulk_create(
                RefreshToken(
                    user=a.user, application=web, token=generate_token(), access_token=a, token_family=uuid.uuid4()
                )
                for a in access
            )
            pool.writelines(r.token + "\n" for r in refresh)

    with open(sys.argv[2], "w") as file:
        json.dump(
            {
                "cc": {"client_id": cc.client_id, "client_secret": cc_secret},
                "web": {"client_id": web.client_id, "client_secret": web_secret, "redirect_uri": spec["redirect_uri"]},
            },
            file,
        )


if __name__ == "__main__":
    main()
