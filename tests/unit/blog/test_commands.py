"""manage.py seed_demo: the demo account scripts/dev prints, created once however often it runs."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from blog.management.commands import seed_demo
from blog.models import Post
from tests.support.contract import bearer, obtain_tokens, ok

User = get_user_model()

pytestmark = pytest.mark.django_db


def run():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def demo_state():
    return {
        "users": list(User.objects.order_by("pk").values("pk", "username", "password")),
        "posts": list(Post.objects.order_by("pk").values()),
    }


def test_seed_demo_creates_the_demo_user_and_posts():
    output = run()
    demo = User.objects.get(username=seed_demo.DEMO_USERNAME)
    assert demo.check_password(seed_demo.DEMO_PASSWORD)
    assert not (demo.is_staff or demo.is_superuser)
    posts = Post.objects.filter(author=demo)
    assert posts.count() == len(seed_demo.DEMO_POSTS)
    assert posts.filter(published=True).count() == 2
    assert all(post.published_at for post in posts.filter(published=True))
    assert {post.title for post in posts} == {title for title, _ in seed_demo.DEMO_POSTS}
    # The credentials and a working curl line are printed for the developer.
    assert f"username={seed_demo.DEMO_USERNAME} password={seed_demo.DEMO_PASSWORD}" in output
    assert "curl -s -X POST http://127.0.0.1:8000/api/auth/token/" in output


def test_seed_demo_prints_the_address_it_is_given():
    out = StringIO()
    call_command("seed_demo", base_url="http://127.0.0.1:8811", stdout=out)
    assert "curl -s -X POST http://127.0.0.1:8811/api/auth/token/" in out.getvalue()


def test_seed_demo_is_idempotent():
    first_output = run()
    before = demo_state()
    second_output = run()
    assert demo_state() == before
    assert second_output == first_output


def test_seed_demo_credentials_sign_in():
    run()
    client = bearer(obtain_tokens(seed_demo.DEMO_USERNAME, seed_demo.DEMO_PASSWORD)["access"])
    body = ok(client.get("/api/posts/"))
    assert body["count"] == len(seed_demo.DEMO_POSTS)  # the two published posts and the demo's own draft
    assert ok(client.get("/api/posts/", {"published": "false"}))["count"] == 1
