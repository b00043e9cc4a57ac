"""The read cache: anonymous post list and detail answers kept in Redis, never stale.

Every answer is stored (one entry per URL) with the *version* of the blog's public data it was
computed under, a random token in Redis, and served only while that token is the current one.
Any write that could change a post read (a post created, changed, published or deleted; a
comment created, changed or deleted; a user changed or deleted, whose name the posts carry)
replaces the token: once when it happens and again once its transaction commits
(`transaction.on_commit`). A reader reads the token *before* it queries the database, so:

- a reader holding the new token started after the commit, and its queries see the write;
- a reader that read the old token stores its answer with the old token, which no reader
  takes for the current one again (entries expire after ENTRY_SECONDS).

A reader gets the token and the URL's entry in one round trip.

So a read that starts after a write's answer never gets an answer from before it. Tokens are
random, never counters: an evicted or lost version key cannot bring an old token back.

The middleware serves a hit before sessions, authentication and the view run: no SQL query.
Only anonymous reads are cached (no Authorization header, no session cookie, JSON wanted); they
answer with an ETag (If-None-Match → 304) and `Cache-Control: public, max-age=READ_CACHE_MAX_AGE`;
a signed-in client's post reads answer `Cache-Control: private, no-store`. A hit still counts
against the anonymous throttles; a throttled hit goes on to the view, which answers the 429.

Redis unreachable means no cache, never an error: reads go to the view, writes succeed (a failed
version change is logged; entries written before the outage expire after ENTRY_SECONDS).
"""

import hashlib
import logging
import time
import uuid

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import DisallowedHost
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers
from rest_framework.settings import api_settings

from .models import Comment, Post

logger = logging.getLogger(__name__)

VERSION_KEY = "reads:version"
# How long an entry lives in Redis; entries of an old version are never read again, this bounds
# the memory they hold (and any staleness if Redis was unreachable when a write changed the version).
ENTRY_SECONDS = 300
# After a failed read, the cache is left alone for this long (writes still try every time).
RETRY_AFTER_SECONDS = 1.0
CACHED_VIEWS = {"post-list", "post-detail"}
VARY = ("Accept", "Authorization", "Cookie")

_clients: dict[str, redis.Redis] = {}
_down_until = 0.0


def _client() -> redis.Redis | None:
    if not (settings.READ_CACHE_ENABLED and settings.READ_CACHE_URL):
        return None
    url = settings.READ_CACHE_URL
    if url not in _clients:
        # Short timeouts: an unreachable Redis must cost a request milliseconds, not seconds.
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=0.25, socket_timeout=0.25)
    return _clients[url]


def _failed(exc: Exception) -> None:
    global _down_until
    _down_until = time.monotonic() + RETRY_AFTER_SECONDS
    logger.warning("read cache unreachable (%s): serving without it", type(exc).__name__)


# --- The version ---------------------------------------------------------------------------
def _change_version() -> None:
    client = _client()
    if client is None:
        return
    try:
        client.set(VERSION_KEY, uuid.uuid4().hex)
    except redis.RedisError as exc:
        _failed(exc)


def invalidate() -> None:
    """Every cached post read is stale from now: call in the transaction of any write that changes one."""
    if _client() is None:
        return
    _change_version()
    transaction.on_commit(_change_version)


def _lookup(client, request) -> tuple[str, str, dict[bytes, bytes]]:
    """The request's entry key, the current version, and the entry if it holds that version's
    answer ({} otherwise). The version and the entry come in one round trip (a pipeline): the
    entry's key does not depend on the version, the version is stored in the entry."""
    key = f"{VERSION_KEY}:entry:{_url_digest(request)}"
    with client.pipeline(transaction=False) as pipe:
        pipe.get(VERSION_KEY)
        pipe.hgetall(key)
        version, entry = pipe.execute()
    if version is None:  # a new or emptied Redis: the first reader sets a version
        client.set(VERSION_KEY, uuid.uuid4().hex, nx=True)
        version = client.get(VERSION_KEY)
    version = version.decode()
    return key, version, entry if entry.get(b"version", b"").decode() == version else {}


@receiver([post_save, post_delete], sender=Post)
@receiver([post_save, post_delete], sender=Comment)
@receiver([post_save, post_delete], sender=get_user_model())
def _write(sender, **kwargs):
    # Saves through the ORM, the admin's included. Queryset .update() sends no signal: services
    # that use one call invalidate() themselves (post_publish).
    invalidate()


# --- The middleware ------------------------------------------------------------------------
class ReadCacheMiddleware:
    """Serves anonymous post reads from Redis; stores the view's answers; sets the HTTP caching headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or not _is_post_read(request):
            return self.get_response(request)
        if not _is_anonymous(request):
            response = self.get_response(request)
            if response.status_code == 200:
                response["Cache-Control"] = "private, no-store"
            return response
        client = _client() if time.monotonic() >= _down_until else None
        key = version = None
        if client is not None:
            try:
                key, version, entry = _lookup(client, request)
            except redis.RedisError as exc:
                _failed(exc)
                entry = None
            except DisallowedHost:
                return self.get_response(request)
            if entry and _throttles_allow(request):
                return _answer(request, entry[b"body"], entry[b"type"].decode(), entry[b"etag"].decode())
        response = self.get_response(request)
        if response.status_code != 200 or response.streaming or not _wants_json(response):
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:  # signed in some other way: never shared
            response["Cache-Control"] = "private, no-store"
            return response
        etag = _etag(response.content)
        if key is not None:
            try:
                with client.pipeline(transaction=False) as pipe:
                    pipe.hset(
                        key,
                        mapping={
                            "version": version,
                            "body": response.content,
                            "type": response["Content-Type"],
                            "etag": etag,
                        },
                    )
                    pipe.expire(key, ENTRY_SECONDS)
                    pipe.execute()
            except redis.RedisError as exc:
                _failed(exc)
        _public_headers(response, etag)
        if _etag_matches(request, etag):
            return _not_modified(response, etag)
        return response


def _is_post_read(request) -> bool:
    try:
        return resolve(request.path_info).url_name in CACHED_VIEWS
    except Resolver404:
        return False


def _is_anonymous(request) -> bool:
    if "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES:
        return False
    # The browsable API (HTML) depends on who asks and on CSRF: never cached.
    return "text/html" not in request.META.get("HTTP_ACCEPT", "")


def _wants_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _url_digest(request) -> str:
    # The answer's links are absolute (`next`): the host and the scheme are part of the key.
    # get_host() validates the host against ALLOWED_HOSTS (DisallowedHost: no cache, the view's 400).
    return hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _etag_matches(request, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def _public_headers(response, etag: str) -> None:
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={settings.READ_CACHE_MAX_AGE}"
    patch_vary_headers(response, VARY)


def _not_modified(response, etag):
    not_modified = HttpResponseNotModified()
    for header in ("ETag", "Cache-Control", "Vary"):
        if header in response:
            not_modified[header] = response[header]
    return not_modified


def _answer(request, body: bytes, content_type: str, etag: str):
    response = HttpResponse(body, content_type=content_type)
    _public_headers(response, etag)
    if _etag_matches(request, etag):
        return _not_modified(response, etag)
    return response


class _Anonymous:
    """What DRF's throttles read of a request: its address (META) and an anonymous user."""

    is_authenticated = False

    def __init__(self, request):
        self.META = request.META
        self.headers = request.headers
        self.user = self


def _throttles_allow(request) -> bool:
    """The anonymous request's throttles, as the view would apply them (and counted once)."""
    if not api_settings.DEFAULT_THROTTLE_CLASSES:
        return True
    anonymous = _Anonymous(request)
    return all(throttle().allow_request(anonymous, None) for throttle in api_settings.DEFAULT_THROTTLE_CLASSES)
