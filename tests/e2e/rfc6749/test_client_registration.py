"""RFC 6749 3.1.2 and RFC 9700 2.1: what a client may register as its redirect URIs."""

import pytest

from oauth.flows import ClientError

pytestmark = pytest.mark.django_db


@pytest.mark.rfc("9700", "2.1")
@pytest.mark.parametrize(
    "uri",
    [
        pytest.param("http://app.example.com/cb", id="http-not-loopback"),
        pytest.param("https://app.example.com/cb#frag", id="fragment"),
        pytest.param("https://*.example.com/cb", id="wildcard-host"),
        pytest.param("https://app.example.com/*", id="wildcard-path"),
        pytest.param("https://user:pw@app.example.com/cb", id="userinfo"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("data:text/html,x", id="data"),
        pytest.param("ftp://app.example.com/cb", id="ftp"),
        pytest.param("/relative", id="relative"),
        pytest.param("https:///path-only", id="no-host"),
        pytest.param("https://app.example.com\\@evil.example/cb", id="backslash"),
    ],
)
def test_unsafe_redirect_uris_cannot_be_registered(make_client, uri):
    with pytest.raises(ClientError) as caught:
        make_client(redirect_uris=[uri])
    assert "redirect_uris" in caught.value.errors


@pytest.mark.rfc("8252", "7.3")
@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/cb",
        "http://127.0.0.1:8080/cb",
        "http://[::1]/cb",
        "http://localhost:3000/cb",
        "https://x.example/cb?a=1",
    ],
)
def test_safe_redirect_uris_can_be_registered(make_client, uri):
    client, _ = make_client(redirect_uris=[uri])
    assert client.redirect_uri_allowed(uri)
