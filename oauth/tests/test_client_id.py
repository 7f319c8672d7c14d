import uuid

import pytest
from django.core.exceptions import ValidationError

from oauth.models import Client, client_id_problem

pytestmark = pytest.mark.django_db

UUID_SHAPES = [
    str(uuid.uuid4()),
    uuid.uuid4().hex,
    "{" + str(uuid.uuid4()) + "}",
    "urn:uuid:" + str(uuid.uuid4()),
    str(uuid.uuid4()).upper(),
]


@pytest.mark.parametrize("client_id", UUID_SHAPES)
def test_a_uuid_shaped_client_id_is_refused_by_clean_and_by_save(client_id, make_client):
    assert client_id_problem(client_id)
    client, _ = make_client(name="Shaped")
    client.client_id = client_id
    with pytest.raises(ValidationError) as clean_error:
        client.full_clean()
    assert "client_id" in clean_error.value.message_dict
    with pytest.raises(ValidationError):
        client.save()
    client.refresh_from_db()
    assert client.client_id != client_id


def test_a_users_subject_cannot_become_a_client_id(user, make_client):
    """The confusion this prevents: a user token whose sub equals its client_id would pass for
    the client's own (client-credentials) token at the resource server."""
    with pytest.raises(ValidationError):
        Client.objects.create(client_id=str(user.subject), name="Impostor", client_type=Client.CLIENT_CONFIDENTIAL)
    assert not Client.objects.filter(client_id=str(user.subject)).exists()


@pytest.mark.parametrize("client_id", ["walkthrough-app", "a" * 40, "0123456789abcdef0123456789abcdef0"])
def test_ordinary_client_ids_are_accepted(client_id, make_client):
    assert client_id_problem(client_id) is None
    client, _ = make_client(name="Ordinary")
    client.client_id = client_id
    client.save()
    assert Client.objects.filter(client_id=client_id).exists()


def test_generated_client_ids_are_never_uuid_shaped(make_client):
    assert all(client_id_problem(make_client(name=f"Generated {i}")[0].client_id) is None for i in range(20))
