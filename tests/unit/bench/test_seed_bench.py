"""manage.py seed_bench: the benchmark's data set, of the requested size, the same on every run."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from bench.management.commands import seed_bench
from blog.models import Comment, Post
from tests.support.factories import PostFactory

# transaction=True: on Postgres the command ends with VACUUM, which refuses to run in a transaction.
pytestmark = pytest.mark.django_db(transaction=True)
SIZE = {"authors": 4, "posts": 30, "comments": 60}


@pytest.fixture(autouse=True)
def bench_installed(settings):
    """seed_bench is the bench app's command, installed only when benchmarking."""
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "bench"]


def _seed(capsys, **overrides):
    call_command("seed_bench", **{**SIZE, **overrides})
    return capsys.readouterr().out


def _data_set():
    return list(Post.objects.exclude(author__username=seed_bench.WRITER_USERNAME).order_by("pk").values())


def test_seeds_the_requested_size_and_a_writer_who_can_sign_in(capsys):
    out = _seed(capsys)
    authors = get_user_model().objects.filter(username__startswith=seed_bench.AUTHOR_PREFIX)
    assert authors.count() == 4
    assert Post.objects.filter(author__in=authors).count() == 30
    assert Comment.objects.count() == 60
    assert Post.objects.filter(published=True, published_at__isnull=True).count() == 0
    writer = get_user_model().objects.get(username=seed_bench.WRITER_USERNAME)
    assert writer.check_password(seed_bench.WRITER_PASSWORD)
    assert "seeded 4 authors, 30 posts, 60 comments" in out


def test_a_second_run_keeps_the_data_and_drops_only_the_writers_posts(capsys):
    _seed(capsys)
    before = _data_set()
    writer = get_user_model().objects.get(username=seed_bench.WRITER_USERNAME)
    PostFactory.create_batch(3, author=writer)

    out = _seed(capsys)

    assert "already present" in out
    assert _data_set() == before
    assert not Post.objects.filter(author=writer).exists()


def test_the_same_seed_gives_the_same_data_and_another_size_reseeds(capsys):
    _seed(capsys)
    titles = list(Post.objects.order_by("created_at").values_list("title", flat=True))
    _seed(capsys, posts=12, comments=5)
    assert Post.objects.count() == 12 and Comment.objects.count() == 5
    _seed(capsys)
    assert list(Post.objects.order_by("created_at").values_list("title", flat=True)) == titles
