from conftest import basic, bearer, form_post


def test_code_flow_me_introspect_refresh_revoke(flow, client):
    tokens = flow.tokens(scope="profile email")
    me = client.get("/api/me", **bearer(tokens["access_token"]))
    assert me.status_code == 200, me.content
    assert me.json()["username"].startswith("user")
    intro = form_post(
        client,
        "/oauth/introspect/",
        {"token": tokens["access_token"]},
        HTTP_AUTHORIZATION=basic(flow.client.client_id, flow.secret),
    )
    assert intro.json()["active"] is True, intro.json()
    refreshed = flow.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    reuse = flow.refresh(tokens["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    new = refreshed.json()
    assert client.get("/api/me", **bearer(new["access_token"])).status_code == 401
