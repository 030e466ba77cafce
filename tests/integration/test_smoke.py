from tests.conftest import PASSWORD, sign_in, make_user


def test_sign_in_and_see_the_workspace(app, client):
    make_user(app, "ann@example.com", "marketer")
    resp = sign_in(client, "Ann@Example.com ", PASSWORD)
    assert resp.status_code == 302
    page = client.get("/journeys").get_data(as_text=True)
    assert "ann@example.com" in page
    for label in ("Journeys", "Templates", "Contacts", "Analytics"):
        assert f">{label}</a>" in page
    assert ">Settings</a>" not in page  # marketers do not manage users
