"""Email verification: registration mails a signed link, following it verifies the address, and
only a verified address receives notification email (the notification itself is in the API
either way). Mail goes through the real path, tasks run in-process, and lands in Django's
locmem outbox (`mailoutbox`)."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from rest_framework.test import APIClient

from accounts import verification
from accounts.models import EmailVerification
from accounts.tasks import send_verification_email, sweep_pending_verification_emails
from blog.models import Notification
from tests.support.contract import client_for, error_message, field_errors, ok, publish, snapshot
from tests.support.factories import TEST_PASSWORD, PostFactory, SubscriptionFactory, UserFactory, verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run_in_process")]

LINK = re.compile(r"https?://\S+")


def register(email, username="newcomer"):
    payload = {"username": username, "password": TEST_PASSWORD, "email": email}
    return APIClient().post("/api/auth/register/", payload, format="json")


def link_in(message) -> str:
    [link] = LINK.findall(message.body)
    return link


def token_in(message) -> str:
    [token] = parse_qs(urlsplit(link_in(message)).query)["token"]
    return token


def verify(token):
    return APIClient().post("/api/auth/email/verify/", {"token": token}, format="json")


def me(user):
    """/api/me/ as the user sees it now (a fresh copy of the account, as each request loads it)."""
    return ok(client_for(type(user).objects.get(pk=user.pk)).get("/api/me/"))


# --- Registration and the link ---------------------------------------------------------------
def test_registration_sends_exactly_one_verification_mail_whose_link_verifies(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = ok(register("new@example.com"), 201)
    assert body["email_verified"] is False

    [message] = mailoutbox
    assert message.to == ["new@example.com"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert link_in(message).startswith(f"{settings.EMAIL_VERIFICATION_URL}?token=")
    # The token's claims are readable by anyone (signed, not encrypted): they hold no address.
    assert b"new@example.com" not in signing.b64_decode(token_in(message).split(":")[0].encode())

    assert ok(verify(token_in(message))) == {"email": "new@example.com", "email_verified": True}
    user = EmailVerification.objects.get(user_id=body["id"]).user
    assert me(user)["email_verified"] is True
    # Idempotent: the same link again changes nothing and sends nothing.
    verified_at = user.email_verification.verified_at
    assert ok(verify(token_in(message)))["email_verified"] is True
    assert EmailVerification.objects.get(user=user).verified_at == verified_at
    assert len(mailoutbox) == 1


def test_registration_without_an_address_sends_nothing(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        body = ok(register(""), 201)
    assert body["email_verified"] is False
    assert mailoutbox == []


def test_the_linked_page_verifies_only_when_its_button_is_pressed(mailoutbox, django_capture_on_commit_callbacks):
    """A GET of the link (a mail scanner opening it) verifies nothing; the page's POST does."""
    with django_capture_on_commit_callbacks(execute=True):
        body = ok(register("page@example.com"), 201)
    path = urlsplit(link_in(mailoutbox[0]))
    user = EmailVerification.objects.get(user_id=body["id"]).user
    client = Client()  # a browser: the page's form posts form-encoded

    page = client.get(f"{path.path}?{path.query}")
    assert page.status_code == 200 and b'<form method="post">' in page.content
    assert me(user)["email_verified"] is False

    done = client.post(path.path, {"token": token_in(mailoutbox[0])})
    assert done.status_code == 200 and b"page@example.com is verified" in done.content
    assert me(user)["email_verified"] is True

    refused = client.post(path.path, {"token": "forged"})
    assert refused.status_code == 400 and verification.INVALID.encode() in refused.content


# --- Bad tokens ------------------------------------------------------------------------------
def signed_long_ago(user) -> str:
    """A real token for the user's current address, signed past EMAIL_VERIFICATION_MAX_AGE."""

    class Then(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - settings.EMAIL_VERIFICATION_MAX_AGE - 60)

    claims = {"user": user.pk, "email": verification.address_digest(user.email)}
    return Then(salt=verification.TOKEN_SALT).sign_object(claims)


def test_a_tampered_expired_or_foreign_token_is_a_400_naming_why(user):
    token = verification.token_make(user=user)
    claims, stamp, signature = token.rsplit(":", 2)
    payload = {"user": user.pk, "email": verification.address_digest(user.email)}
    forged_claims = signing.TimestampSigner(salt="not-the-salt").sign_object(payload)
    cases = {
        "signature changed": (f"{claims}:{stamp}:{signature[::-1]}", verification.INVALID),
        "claims changed": (f"{claims[:-2]}xx:{stamp}:{signature}", verification.INVALID),
        "other purpose": (forged_claims, verification.INVALID),
        "garbage": ("not a token", verification.INVALID),
        "expired": (signed_long_ago(user), verification.EXPIRED),
    }
    before = snapshot()
    for case, (bad, message) in cases.items():
        assert field_errors(verify(bad)) == {"token": [message]}, case
    assert snapshot() == before
    assert not EmailVerification.objects.filter(user=user, verified_at__isnull=False).exists()
    assert me(user)["email_verified"] is False


def test_a_link_to_an_old_address_stops_working_when_the_address_changes(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    old_token = verification.token_make(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        body = ok(client_for(user).patch("/api/me/", {"email": "moved@example.com"}, format="json"))
    assert body["email_verified"] is False

    assert field_errors(verify(old_token)) == {"token": [verification.OLD_ADDRESS]}
    [message] = mailoutbox  # the change sent one mail, to the new address
    assert message.to == ["moved@example.com"]
    assert ok(verify(token_in(message)))["email"] == "moved@example.com"


def test_changing_a_verified_address_unverifies_it(mailoutbox, django_capture_on_commit_callbacks):
    user = verified(UserFactory())
    assert me(user)["email_verified"] is True
    with django_capture_on_commit_callbacks(execute=True):
        ok(client_for(user).patch("/api/me/", {"email": "new-address@example.com"}, format="json"))
    assert me(user)["email_verified"] is False
    # The same address again is no change: no mail.
    with django_capture_on_commit_callbacks(execute=True):
        ok(client_for(user).patch("/api/me/", {"email": "new-address@example.com"}, format="json"))
    assert [message.to for message in mailoutbox] == [["new-address@example.com"]]


# --- Resend ----------------------------------------------------------------------------------
def test_resend_mails_a_new_link_and_is_rate_limited_per_user(user, mailoutbox, django_capture_on_commit_callbacks):
    client = client_for(user)
    limit = int(settings.THROTTLE_RATES["email_verification"].split("/")[0])
    for _ in range(limit):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/api/auth/email/resend/").status_code == 204
    assert [message.to for message in mailoutbox] == [[user.email]] * limit
    assert ok(verify(token_in(mailoutbox[-1])))["email_verified"] is True

    throttled = client.post("/api/auth/email/resend/")
    error_message(throttled, 429)
    assert throttled["Retry-After"]


def test_resend_refuses_an_address_already_verified_or_none(mailoutbox):
    assert field_errors(client_for(verified(UserFactory())).post("/api/auth/email/resend/")).keys() == {"email"}
    assert field_errors(client_for(UserFactory(email="")).post("/api/auth/email/resend/")).keys() == {"email"}
    assert mailoutbox == []


def test_resend_needs_a_sign_in(api_client):
    error_message(api_client.post("/api/auth/email/resend/"), 401)


# --- The outbox ------------------------------------------------------------------------------
def test_a_lost_enqueue_is_swept_and_a_redelivered_send_mails_nothing_twice(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the enqueue never happens
        body = ok(register("swept@example.com"), 201)
    assert mailoutbox == []
    assert EmailVerification.objects.get(user_id=body["id"]).mail_pending is True

    assert sweep_pending_verification_emails.apply(kwargs={"grace_seconds": 0}).get() == 1
    assert [message.to for message in mailoutbox] == [["swept@example.com"]]
    assert send_verification_email.apply(args=[body["id"]]).get() == 0
    assert sweep_pending_verification_emails.apply(kwargs={"grace_seconds": 0}).get() == 0
    assert len(mailoutbox) == 1


# --- Notification mail -----------------------------------------------------------------------
def test_an_unverified_follower_is_notified_in_the_api_but_not_emailed(mailoutbox, django_capture_on_commit_callbacks):
    author = UserFactory()
    unverified, confirmed = UserFactory(), verified(UserFactory())
    for follower in (unverified, confirmed):
        SubscriptionFactory(subscriber=follower, author=author)
    post = PostFactory(author=author, title="Only to proven addresses")

    with django_capture_on_commit_callbacks(execute=True):
        assert publish(author, post).status_code == 200

    assert [message.to for message in mailoutbox] == [[confirmed.email]]
    assert "Only to proven addresses" in mailoutbox[0].subject
    for follower in (unverified, confirmed):
        listed = ok(client_for(follower).get("/api/notifications/"))["results"]
        assert [item["post"] for item in listed] == [post.pk]
    post.refresh_from_db()
    assert post.notifications_pending is False  # the unverified one does not hold the outbox
    assert Notification.objects.filter(post=post, emailed_at__isnull=True).count() == 0


def test_a_follower_who_verifies_gets_the_email_of_the_next_post(mailoutbox, django_capture_on_commit_callbacks):
    author, follower = UserFactory(), UserFactory()
    SubscriptionFactory(subscriber=follower, author=author)
    with django_capture_on_commit_callbacks(execute=True):
        publish(author, PostFactory(author=author, title="Before"))
    assert mailoutbox == []

    ok(verify(verification.token_make(user=follower)))
    with django_capture_on_commit_callbacks(execute=True):
        publish(author, PostFactory(author=author, title="After"))
    assert [(message.to, "After" in message.subject) for message in mailoutbox] == [([follower.email], True)]
