"""The benchmark's yardstick (bench/baseline.py) must serve the same data as the API's first
page, or scripts/bench would compare two different things."""

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from bench import baseline
from tests.support import child
from tests.support.contract import error_message
from tests.support.factories import CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def published_posts():
    authors = UserFactory.create_batch(3)
    posts = [PostFactory(author=authors[n % 3], live=True) for n in range(baseline.PAGE_SIZE + 5)]
    for post in posts[-4:]:  # the newest: on the first page
        CommentFactory.create_batch(2, post=post)
    PostFactory(author=authors[0])  # a draft: in neither body
    return posts


def test_baseline_body_equals_the_anonymous_api_list(api_client, published_posts):
    api = api_client.get(reverse("post-list"))
    request = RequestFactory().get("/bench/baseline/posts/")
    hand_written = json.loads(baseline.post_list(request).content)

    assert api.status_code == 200
    assert hand_written == api.json()
    assert hand_written["count"] == len(published_posts)
    assert len(hand_written["results"]) == baseline.PAGE_SIZE
    assert hand_written["next"] == "http://testserver/api/posts/?page=2"
    assert sum(item["comment_count"] for item in hand_written["results"]) == 8


def test_baseline_has_no_next_link_when_everything_fits(api_client):
    PostFactory(live=True)
    request = RequestFactory().get("/bench/baseline/posts/")
    body = json.loads(baseline.post_list(request).content)
    assert body == api_client.get(reverse("post-list")).json()
    assert body["next"] is None


def test_baseline_is_not_routed_unless_the_benchmark_turns_it_on(client):
    # BENCH_BASELINE_ENABLED is off by default: production never exposes it.
    assert client.get("/bench/baseline/posts/").status_code == 404


@pytest.mark.urls("bench.urls")
def test_the_benchmark_urlconf_routes_the_baseline_beside_the_whole_api(client, published_posts):
    body = client.get("/bench/baseline/posts/").json()
    assert body == client.get(reverse("post-list")).json()
    assert body["count"] == len(published_posts)
    assert error_message(client.get("/no-such-page/"), 404) == "Not found."  # the project's error handlers too


def test_benchmarking_installs_the_bench_app_and_its_urlconf_and_only_then():
    bench = child.app_env(BENCH_BASELINE_ENABLED="true")
    seen = child.settings_of(bench, "INSTALLED_APPS", "ROOT_URLCONF")
    assert ("bench" in seen["INSTALLED_APPS"], seen["ROOT_URLCONF"]) == (True, "bench.urls")
    seen = child.settings_of(child.app_env(BENCH_BASELINE_ENABLED=None), "INSTALLED_APPS", "ROOT_URLCONF")
    assert ("bench" in seen["INSTALLED_APPS"], seen["ROOT_URLCONF"]) == (False, "config.urls")
    # scripts/bench seeds its data set with `manage.py seed_bench` under these settings.
    result = child.manage("seed_bench", "--help", env=bench)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "--comments" in result.stdout
