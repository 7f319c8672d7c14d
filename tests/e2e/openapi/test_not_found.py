"""A URL under /api/ that no pattern matches answers JSON like every API view (schemathesis
found `DELETE /api/sessions/GET` answering the HTML page); elsewhere the page stays HTML."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/sessions/not-a-uuid", "/api/nothing-here", "/api/admin/users/x/y/z"])
def test_unknown_api_url_is_json_404(client, path):
    response = client.delete(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_unknown_page_stays_html(client):
    response = client.get("/accounts/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Page not found" in response.content
