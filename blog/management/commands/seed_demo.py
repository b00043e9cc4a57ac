"""Create a demo user with a few posts (idempotent) and print how to log in."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from blog import services
from blog.models import Post

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-123"
DEMO_POSTS = [
    ("Hello, world", "The first post of this blog."),
    ("Deploying anywhere", "One image, four roles: web, worker, beat and release."),
    ("A draft", "Only its author can see this one until it is published."),
]


class Command(BaseCommand):
    help = "Create the demo user and a few posts, then print the credentials."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Where the API is served.")

    def handle(self, *args, base_url, **options):
        User = get_user_model()
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            user = User.objects.create_user(DEMO_USERNAME, email="demo@example.com", password=DEMO_PASSWORD)
        if not Post.objects.filter(author=user).exists():
            for index, (title, body) in enumerate(DEMO_POSTS):
                post = services.post_create(author=user, title=title, body=body)
                if index < 2:
                    services.post_publish(post=post)
        login = f'{{"username":"{DEMO_USERNAME}","password":"{DEMO_PASSWORD}"}}'
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo user: username={DEMO_USERNAME} password={DEMO_PASSWORD}\n"
                f"Get a token: curl -s -X POST {base_url}/api/auth/token/ "
                f"-H 'Content-Type: application/json' -d '{login}'"
            )
        )
