"""The admin: every model's changelist and change page open for a superuser, with a query count
that does not grow with the rows (list_select_related) and change pages that do not load every
user or post into a <select> (raw_id_fields)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.support.factories import CommentFactory, NotificationFactory, PostFactory, SubscriptionFactory, UserFactory

User = get_user_model()

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Unhashed static URLs: the hashed ones need collectstatic, which the system tests run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def admin_client(client, db):
    superuser = User.objects.create_superuser("root", "root@example.com", "unused-password-1")
    client.force_login(superuser)
    return client


RAW_ID_FIELDS = {
    "post": ["author"],
    "comment": ["post", "author"],
    "subscription": ["subscriber", "author"],
    "notification": ["recipient", "post"],
}
MAKERS = {
    "post": lambda: PostFactory(live=True),
    "comment": CommentFactory,
    "subscription": SubscriptionFactory,
    "notification": NotificationFactory,
}


@pytest.mark.parametrize("model", MAKERS)
def test_changelist_and_change_page_open(admin_client, model):
    obj = MAKERS[model]()
    changelist = admin_client.get(f"/admin/blog/{model}/")
    assert changelist.status_code == 200
    assert f"/admin/blog/{model}/{obj.pk}/change/" in changelist.content.decode()
    change = admin_client.get(f"/admin/blog/{model}/{obj.pk}/change/")
    assert change.status_code == 200
    html = change.content.decode()
    # raw_id_fields: related users and posts are typed in by id, never loaded into a <select>.
    for field in RAW_ID_FIELDS[model]:
        assert re.search(rf'<input [^>]*name="{field}"[^>]*vForeignKeyRawIdAdminField', html), field
        assert f'<select name="{field}"' not in html


def test_changelists_show_related_objects_by_their_str(admin_client):
    comment = CommentFactory()
    notification = NotificationFactory(post=comment.post)
    assert comment.post.title in admin_client.get("/admin/blog/comment/").content.decode()
    body = admin_client.get("/admin/blog/notification/").content.decode()
    assert comment.post.title in body
    assert notification.recipient.username in body


@pytest.mark.parametrize("model", MAKERS)
def test_changelist_queries_do_not_grow_with_rows(admin_client, model):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(f"/admin/blog/{model}/").status_code == 200
        return len(queries)

    MAKERS[model]()
    one = count()
    for _ in range(6):
        MAKERS[model]()
    assert count() == one


def test_post_changelist_search_and_filters(admin_client):
    PostFactory(live=True, title="Findable needle")
    PostFactory(title="Something else")
    body = admin_client.get("/admin/blog/post/", {"q": "needle"}).content.decode()
    assert "Findable needle" in body and "Something else" not in body
    body = admin_client.get("/admin/blog/post/", {"published__exact": "0"}).content.decode()
    assert "Something else" in body and "Findable needle" not in body
    today = timezone.now()
    body = admin_client.get("/admin/blog/post/", {"created_at__year": today.year}).content.decode()
    assert "Findable needle" in body


def test_publishing_from_the_admin_without_a_date_dates_the_post(admin_client):
    """Ticking "published" and leaving the date empty publishes the post now (the model fills
    published_at), instead of a form error or a database crash."""
    post = PostFactory()
    payload = {
        "author": post.author_id,
        "title": post.title,
        "body": post.body,
        "published": "on",
        "published_at_0": "",
        "published_at_1": "",
        "created_at_0": post.created_at.strftime("%Y-%m-%d"),
        "created_at_1": post.created_at.strftime("%H:%M:%S"),
    }
    before = timezone.now().replace(microsecond=0)
    response = admin_client.post(f"/admin/blog/post/{post.pk}/change/", payload)
    assert response.status_code == 302, response.context["adminform"].form.errors
    post.refresh_from_db()
    assert post.published and post.published_at >= before


def test_admin_needs_staff(client, db):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/admin/blog/post/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
