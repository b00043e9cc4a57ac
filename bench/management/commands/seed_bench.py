"""Seed the benchmark data set: many authors, posts and comments, deterministic and fast.

Idempotent: an existing data set of the requested size is kept, only the posts written by
the benchmark's writer account (its create runs) are removed, so every run reads the same data.
"""

import random
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from blog import read_cache
from blog.models import Comment, Post

AUTHOR_PREFIX = "bench-author-"
WRITER_USERNAME = "bench-writer"
WRITER_PASSWORD = "bench-writer-password-123"
# A fixed "now" keeps the data set identical from one run to the next.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = [
    "django",
    "api",
    "deploy",
    "cache",
    "query",
    "index",
    "latency",
    "worker",
    "queue",
    "render",
    "json",
    "token",
    "author",
    "post",
    "comment",
    "python",
    "postgres",
    "redis",
    "gunicorn",
    "nginx",
    "throughput",
    "profile",
    "schema",
    "migration",
    "release",
    "health",
    "café",
    "naïve",
    "résumé",
    "Zürich",
    "東京",
    "😀",
    "über",
    "straße",
    "déjà",
    "vu",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
]


class Command(BaseCommand):
    help = "Create the benchmark data set (authors, posts, comments) unless it is already there."

    def add_arguments(self, parser):
        parser.add_argument("--authors", type=int, default=500)
        parser.add_argument("--posts", type=int, default=10_000)
        parser.add_argument("--comments", type=int, default=50_000)
        parser.add_argument("--seed", type=int, default=8)

    def handle(self, *args, authors, posts, comments, seed, **options):
        User = get_user_model()
        password = make_password(WRITER_PASSWORD)  # hashed once: every seeded account shares it
        writer, _ = User.objects.get_or_create(username=WRITER_USERNAME, defaults={"password": password})
        removed, _ = Post.objects.filter(author=writer).delete()
        seeded = User.objects.filter(username__startswith=AUTHOR_PREFIX)
        if (
            seeded.count() == authors
            and Post.objects.filter(author__in=seeded).count() == posts
            and Comment.objects.filter(post__author__in=seeded).count() == comments
        ):
            self.stdout.write(f"benchmark data set already present ({removed} rows of earlier create runs removed)")
        else:
            self._seed(User, password, authors=authors, posts=posts, comments=comments, seed=seed)
            self.stdout.write(f"seeded {authors} authors, {posts} posts, {comments} comments")
        # Rows written by bulk_create send no signal: cached reads of any earlier data set are dropped here.
        read_cache.invalidate()
        if connection.vendor == "postgresql":
            # What autovacuum would have done by now: planner statistics and a visibility map
            # (for index-only scans), so every run plans its queries on the same picture of the data.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE auth_user, blog_post, blog_comment")

    def _seed(self, User, password, *, authors, posts, comments, seed):
        seeded = User.objects.filter(username__startswith=AUTHOR_PREFIX)
        rng = random.Random(seed)
        with transaction.atomic():
            seeded.delete()
            users = User.objects.bulk_create(
                User(username=f"{AUTHOR_PREFIX}{n:04d}", email=f"{AUTHOR_PREFIX}{n:04d}@example.com", password=password)
                for n in range(authors)
            )
            new_posts = []
            for _ in range(posts):
                created = EPOCH - timedelta(seconds=rng.randrange(2 * 365 * 86400), microseconds=rng.randrange(10**6))
                published = rng.random() < 0.9
                new_posts.append(
                    Post(
                        author=rng.choice(users),
                        title=_sentence(rng, 4, 10)[:200],
                        body=" ".join(_sentence(rng, 8, 20) for _ in range(rng.randint(3, 12))),
                        published=published,
                        published_at=created + timedelta(hours=rng.randint(1, 72)) if published else None,
                        created_at=created,
                    )
                )
            new_posts = Post.objects.bulk_create(new_posts, batch_size=2000)
            Comment.objects.bulk_create(
                (
                    Comment(
                        post=(post := rng.choice(new_posts)),
                        author=rng.choice(users),
                        body=_sentence(rng, 5, 30),
                        created_at=post.created_at + timedelta(minutes=rng.randint(1, 10_000)),
                    )
                    for _ in range(comments)
                ),
                batch_size=5000,
            )


def _sentence(rng, low, high):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize()
