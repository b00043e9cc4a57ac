"""Account services, called directly: the rules every sign-up obeys whichever view or command calls it."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.exceptions import ValidationError

from accounts import services
from tests.support.factories import TEST_PASSWORD, UserFactory

User = get_user_model()

pytestmark = pytest.mark.django_db


def test_user_register_stores_a_hashed_password(db):
    user = services.user_register(username="writer", password=TEST_PASSWORD, email="w@example.com")
    user.refresh_from_db()
    assert (user.username, user.email) == ("writer", "w@example.com")
    assert user.check_password(TEST_PASSWORD)
    assert user.password != TEST_PASSWORD


def test_user_register_refuses_a_weak_password_under_the_password_field(db):
    with pytest.raises(ValidationError) as caught:
        services.user_register(username="writer", password="writer12")
    assert set(caught.value.detail) == {"password"}
    assert not User.objects.filter(username="writer").exists()


def test_user_register_race_on_the_username_is_a_validation_error(db):
    """Two registrations that both passed the serializer's uniqueness check: the database decides,
    and the loser gets the same 400 as a plain duplicate rather than an IntegrityError."""
    UserFactory(username="racer")
    with pytest.raises(ValidationError) as caught:
        services.user_register(username="racer", password=TEST_PASSWORD)
    assert set(caught.value.detail) == {"username"}
    # The failed insert was rolled back on its own: the connection is still usable (Postgres).
    assert User.objects.filter(username="racer").count() == 1
