from tests.conftest import log_in
from tests.factories import make_user


def test_home_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Communities" in response.text


def test_login_flow(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    assert client.get("/profile").status_code == 200
