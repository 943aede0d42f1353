from conftest import count_rows

from pbvote.auth.models import User


def test_make_user_and_sign_in(client, make_user, login):
    user = make_user()
    login(user)
    assert client.get("/account").status_code == 200
    assert count_rows(User) == 1
