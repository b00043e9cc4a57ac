import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import EmailVerification
from blog.models import Comment, Notification, Post, Subscription

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def verified(user):
    """The user, with their current address verified (as following the mailed link does)."""
    EmailVerification.objects.update_or_create(
        user=user, defaults={"verified_email": user.email, "verified_at": timezone.now()}
    )
    return user


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    author = factory.SubFactory(UserFactory)
    title = factory.Faker("sentence", nb_words=6)
    body = factory.Faker("paragraph", nb_sentences=5)
    published = False
    published_at = None

    class Params:
        live = factory.Trait(published=True, published_at=factory.LazyFunction(timezone.now))


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    post = factory.SubFactory(PostFactory, live=True)
    author = factory.SubFactory(UserFactory)
    body = factory.Faker("sentence")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    subscriber = factory.SubFactory(UserFactory)
    author = factory.SubFactory(UserFactory)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    post = factory.SubFactory(PostFactory, live=True)
