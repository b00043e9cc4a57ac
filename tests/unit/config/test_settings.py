"""config/settings.py read from the environment of a fresh process: bad configuration stops
start-up with a message naming the variable, and the platforms' variables are picked up."""

import secrets
import subprocess

import pytest

from config.settings import DEV_SECRET_KEY
from tests.support import child

STRONG_KEY = secrets.token_urlsafe(50)


def _fails_naming(result: subprocess.CompletedProcess, variable: str) -> str:
    """The process failed, and its last line is an ImproperlyConfigured naming the variable."""
    assert result.returncode != 0, f"started although {variable} is bad:\n{result.stdout}{result.stderr}"
    message = child.last_line(result.stderr)
    assert message.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr[-3000:]
    assert variable in message, message
    return message


# --- SECRET_KEY ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "secret_key",
    [
        None,
        "",
        DEV_SECRET_KEY,
        "django-insecure-" + secrets.token_urlsafe(50),
        secrets.token_urlsafe(30),  # 40 characters
        "ab" * 40,  # long, but two distinct characters
    ],
    ids=["missing", "empty", "dev-key", "django-insecure", "short", "low-entropy"],
)
def test_production_refuses_a_missing_or_weak_secret_key(secret_key):
    env = child.app_env(SECRET_KEY=secret_key, DEBUG="false")
    message = _fails_naming(child.manage("check", env=env), "SECRET_KEY")
    assert "secrets.token_urlsafe" in message  # says how to make a good one


def test_debug_starts_without_a_secret_key():
    env = child.app_env(SECRET_KEY=None, DEBUG="true")
    result = child.manage("check", env=env)
    assert result.returncode == 0, result.stderr
    assert child.settings_of(env, "SECRET_KEY") == {"SECRET_KEY": DEV_SECRET_KEY}


def test_a_secret_key_starting_with_a_dollar_sign_is_used_as_given():
    """Django's own key generator can start a key with "$"; it is a key, not a reference to a variable."""
    key = "$" + STRONG_KEY
    env = child.app_env(SECRET_KEY=key)
    assert child.settings_of(env, "SECRET_KEY") == {"SECRET_KEY": key}


# --- JWT_SIGNING_KEY and ALLOWED_HOSTS -----------------------------------------------------------
@pytest.mark.parametrize(
    ("jwt_key", "says"),
    [
        ("same-as-secret", "JWT_SIGNING_KEY is the same as SECRET_KEY"),
        (secrets.token_urlsafe(30), "JWT_SIGNING_KEY is shorter than 50 characters"),
        ("ab" * 40, "fewer than 5 distinct characters"),
        ("django-insecure-" + secrets.token_urlsafe(50), "development key"),
    ],
    ids=["equal-to-secret-key", "short", "low-entropy", "django-insecure"],
)
def test_production_refuses_a_weak_or_shared_jwt_signing_key(jwt_key, says):
    if jwt_key == "same-as-secret":
        jwt_key = STRONG_KEY
    env = child.app_env(SECRET_KEY=STRONG_KEY, JWT_SIGNING_KEY=jwt_key, DEBUG="false")
    message = _fails_naming(child.manage("check", env=env), "JWT_SIGNING_KEY")
    assert says in message
    assert "secrets.token_urlsafe" in message  # says how to make a good one


def test_jwts_are_signed_with_jwt_signing_key_itself():
    key = secrets.token_urlsafe(50)
    env = child.app_env(SECRET_KEY=STRONG_KEY, JWT_SIGNING_KEY=key)
    assert child.settings_of(env, "SIMPLE_JWT")["SIMPLE_JWT"]["SIGNING_KEY"] == key


@pytest.mark.parametrize("debug", ["false", "true"])
@pytest.mark.parametrize("unset", [None, ""], ids=["absent", "empty"])
def test_without_a_jwt_signing_key_one_is_derived_from_secret_key_never_secret_key_itself(debug, unset):
    """An .env copied with JWT_SIGNING_KEY left empty still starts: every process derives the same
    key (tokens outlive restarts and work on every replica), a new SECRET_KEY gives a new one."""

    def signing_key(secret_key):
        env = child.app_env(SECRET_KEY=secret_key, JWT_SIGNING_KEY=unset, DEBUG=debug)
        return child.settings_of(env, "SIMPLE_JWT")["SIMPLE_JWT"]["SIGNING_KEY"]

    derived = signing_key(STRONG_KEY)
    assert len(derived) >= 50 and len(set(derived)) >= 5
    assert STRONG_KEY not in derived and derived not in STRONG_KEY
    assert signing_key(STRONG_KEY) == derived  # another process, the same key
    assert signing_key(secrets.token_urlsafe(50)) != derived


@pytest.mark.parametrize("hosts", ["*", "blog.example.com,*"])
def test_production_refuses_any_host(hosts):
    env = child.app_env(ALLOWED_HOSTS=hosts, DEBUG="false")
    message = _fails_naming(child.manage("check", env=env), "ALLOWED_HOSTS")
    assert "'*'" in message and "ALLOWED_HOSTS=blog.example.com" in message  # says what to set instead


def test_debug_accepts_any_host():
    env = child.app_env(ALLOWED_HOSTS="*", DEBUG="true")
    assert "*" in child.settings_of(env, "ALLOWED_HOSTS")["ALLOWED_HOSTS"]


# --- Any other bad value -------------------------------------------------------------------------
BAD_VALUES = [
    ("WEB_CONCURRENCY", "three"),
    ("WEB_CONCURRENCY", "0"),
    ("WEB_THREADS", "0"),
    ("CELERY_CONCURRENCY", "-1"),
    ("OUTBOX_SWEEP_SECONDS", "0"),
    ("PORT", "70000"),
    ("LOG_LEVEL", "verbose"),
    ("SENTRY_TRACES_SAMPLE_RATE", "20"),
    ("WEB_THREADS", "4.5"),
    ("WEB_TIMEOUT", "30s"),
    ("WEB_MAX_REQUESTS", "-1"),
    ("PORT", "http"),
    ("CONN_MAX_AGE", "forever"),
    ("DB_STATEMENT_TIMEOUT_MS", "-1"),
    ("DB_STATEMENT_TIMEOUT_MS", "10s"),
    ("NUM_PROXIES", "one"),
    ("SENTRY_TRACES_SAMPLE_RATE", "most"),
    ("DEBUG", "maybe"),
    ("THROTTLE_ENABLED", "flase"),
    ("SECURE_SSL_REDIRECT", "yess"),
    ("THROTTLE_ANON_RATE", "lots"),
    ("THROTTLE_USER_RATE", "600"),
    ("THROTTLE_AUTH_RATE", "10/month"),
    ("DATABASE_URL", "localhost:5432/blog"),
    ("DATABASE_URL", f"postgres://blog:{child.DB_PASSWORD}@db:port/blog"),
    ("DATABASE_URL", f"mysqlx://blog:{child.DB_PASSWORD}@db/blog"),
    ("REDIS_URL", "localhost:6379"),
    ("CACHE_URL", "memcache-ish://cache"),
    ("EMAIL_URL", "smtp://mail:notaport"),
    ("EMAIL_URL", "postman://mail"),
    ("SENTRY_DSN", "not-a-dsn"),
    ("SENTRY_RELEASE", "blog/1.0"),
    ("EMAIL_VERIFICATION_URL", "blog.example.com/verify-email/"),
    ("EMAIL_VERIFICATION_URL", "https://blog.example.com/verify-email/?next=x"),
    ("EMAIL_VERIFICATION_MAX_AGE", "0"),
    ("THROTTLE_EMAIL_VERIFICATION_RATE", "3"),
    ("SEARCH_CONFIG", "english'); DROP TABLE blog_post; --"),
    ("READ_CACHE_ENABLED", "sometimes"),
    ("READ_CACHE_URL", "localhost:6379"),
    ("READ_CACHE_MAX_AGE", "-1"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value):
    result = child.manage("check", env=child.app_env(**{variable: value}))
    _fails_naming(result, variable)
    # A database URL holds the password: the error names the problem, never echoes the value.
    assert child.DB_PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "value"), [("DEBUG", "off"), ("THROTTLE_ENABLED", "0"), ("SECURE_SSL_REDIRECT", "FALSE")]
)
def test_every_usual_spelling_of_a_boolean_is_accepted(variable, value):
    assert child.settings_of(child.app_env(**{variable: value}), variable) == {variable: False}


# --- Platforms -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("variable", "value", "host"),
    [
        ("FLY_APP_NAME", "blog-api", "blog-api.fly.dev"),
        ("RENDER_EXTERNAL_HOSTNAME", "blog-web.onrender.com", "blog-web.onrender.com"),
        ("RAILWAY_PUBLIC_DOMAIN", "blog-production.up.railway.app", "blog-production.up.railway.app"),
    ],
)
def test_the_platform_host_is_allowed_and_trusted_for_csrf(variable, value, host):
    without = child.settings_of(child.app_env(), "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS")
    assert host not in without["ALLOWED_HOSTS"]

    seen = child.settings_of(child.app_env(**{variable: value}), "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS")
    assert host in seen["ALLOWED_HOSTS"]
    assert f"https://{host}" in seen["CSRF_TRUSTED_ORIGINS"]
    # Listed hosts stay: the platform's is added, not substituted.
    assert {"127.0.0.1", "localhost"} <= set(seen["ALLOWED_HOSTS"])


@pytest.mark.parametrize(
    ("variables", "url"),
    [
        ({}, "http://127.0.0.1:8000/verify-email/"),  # scripts/dev's address
        ({"RENDER_EXTERNAL_HOSTNAME": "blog-web.onrender.com"}, "https://blog-web.onrender.com/verify-email/"),
        (
            {"FLY_APP_NAME": "blog-api", "EMAIL_VERIFICATION_URL": "https://blog.example.com/confirm"},
            "https://blog.example.com/confirm",
        ),
    ],
    ids=["default", "platform-host", "set"],
)
def test_the_verification_link_leads_to_the_sites_own_page_unless_set(variables, url):
    assert child.settings_of(child.app_env(**variables), "EMAIL_VERIFICATION_URL")["EMAIL_VERIFICATION_URL"] == url


def test_a_custom_domain_keeps_the_platform_host_as_well():
    env = child.app_env(
        RENDER_EXTERNAL_HOSTNAME="blog-web.onrender.com",
        ALLOWED_HOSTS="blog.example.com",
        CSRF_TRUSTED_ORIGINS="https://blog.example.com",
    )
    seen = child.settings_of(env, "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS")
    assert seen["ALLOWED_HOSTS"] == ["blog.example.com", "blog-web.onrender.com"]
    assert seen["CSRF_TRUSTED_ORIGINS"] == ["https://blog.example.com", "https://blog-web.onrender.com"]


COMMIT = "3f2a9c1d4e5b6a7980a1b2c3d4e5f60718293a4b"


@pytest.mark.parametrize(
    ("variables", "release"),
    [
        ({}, None),
        ({"RENDER_GIT_COMMIT": COMMIT}, COMMIT),
        ({"RAILWAY_GIT_COMMIT_SHA": COMMIT}, COMMIT),
        # Fly.io has no commit variable; the image tag names the deployment (the commit with --image-label).
        (
            {"FLY_IMAGE_REF": "registry.fly.io/blog-api:deployment-01H9RK9EYO9PGNBYAKGXSHV0PH"},
            "deployment-01H9RK9EYO9PGNBYAKGXSHV0PH",
        ),
        ({"FLY_IMAGE_REF": f"registry.fly.io/blog-api:{COMMIT}@sha256:{'e' * 64}"}, COMMIT),
        ({"FLY_IMAGE_REF": "registry.fly.io/blog-api@sha256:" + "e" * 64}, None),
        ({"SENTRY_RELEASE": "blog@1.4.0", "RENDER_GIT_COMMIT": COMMIT}, "blog@1.4.0"),
    ],
    ids=["none", "render", "railway", "fly-deployment-tag", "fly-commit-label", "fly-digest-only", "explicit"],
)
def test_the_sentry_release_is_the_platforms_commit(variables, release):
    assert child.settings_of(child.app_env(**variables), "SENTRY_RELEASE") == {"SENTRY_RELEASE": release}


# --- Database ------------------------------------------------------------------------------------
def test_postgres_connections_get_the_statement_timeout_and_zero_sends_no_option():
    """The timeout is a startup option of each Postgres connection (proven live in
    tests/integration/config/test_statement_timeout.py); 0 sends none, for a pooler that refuses it."""
    default = child.settings_of(child.app_env(), "DATABASES")["DATABASES"]["default"]["OPTIONS"]
    assert default["options"] == "-c statement_timeout=10000"
    assert (
        "options"
        not in child.settings_of(child.app_env(DB_STATEMENT_TIMEOUT_MS="0"), "DATABASES")["DATABASES"]["default"][
            "OPTIONS"
        ]
    )
    sqlite = child.settings_of(child.app_env("sqlite:////tmp/x.sqlite3"), "DATABASES")["DATABASES"]["default"]
    assert "options" not in sqlite.get("OPTIONS", {})


# --- Cache ---------------------------------------------------------------------------------------
def test_the_cache_is_redis_with_redis_url_and_local_memory_without():
    """Throttle counters live in the default cache: shared by every process only in Redis."""
    redis = child.settings_of(child.app_env(REDIS_URL="redis://127.0.0.1:6379/4", CACHE_URL=None), "CACHES")
    assert redis["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert redis["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/4"

    local = child.settings_of(child.app_env(REDIS_URL=None, CACHE_URL=None), "CACHES")
    assert local["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(("debug", "browsable"), [("false", False), ("true", True)])
def test_the_browsable_api_renders_only_with_debug(debug, browsable):
    renderers = child.settings_of(child.app_env(DEBUG=debug), "REST_FRAMEWORK")["REST_FRAMEWORK"][
        "DEFAULT_RENDERER_CLASSES"
    ]
    assert renderers[0] == "rest_framework.renderers.JSONRenderer"
    assert ("rest_framework.renderers.BrowsableAPIRenderer" in renderers) is browsable


def test_with_no_proxy_settings_nothing_a_client_writes_is_trusted():
    """The shipped defaults are those of gunicorn reachable directly (docs/security.md)."""
    loaded = child.settings_of(child.app_env(), "REST_FRAMEWORK", "FORWARDED_ALLOW_IPS")
    assert loaded["REST_FRAMEWORK"]["NUM_PROXIES"] == 0
    assert loaded["FORWARDED_ALLOW_IPS"] == "127.0.0.1,::1"
