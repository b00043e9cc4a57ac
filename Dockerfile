# syntax=docker/dockerfile:1
# One image, four roles: web (the default CMD), worker, beat and release run the same image
# with the command scripts/<role> (fly.toml, render.yaml, railway*.json, docker-compose.yml).
# No ENTRYPOINT: Fly's release_command replaces the CMD only, so an entrypoint that migrated
# or waited for the database would run in every role.

# uv pinned to the version CI uses (.github/workflows/ci.yml, UV_VERSION).
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# --- Build: the virtualenv from uv.lock, then the collected static files ------------------------
FROM python:3.13-slim AS builder
COPY --from=uv /uv /usr/local/bin/uv
# Bytecode compiled once here (the runtime never writes any); files copied out of the cache
# mount rather than hard-linked into it; the image's own Python, never a downloaded one.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies before the code: this layer is reused until pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock .python-version ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
COPY . .
# collectstatic needs no database and no real secret: settings refuse to load without keys
# when DEBUG is off, so throwaway ones exist for this command only (never an ENV).
RUN SECRET_KEY=collectstatic-at-build-time-only-0123456789-not-a-secret DEBUG=false \
    JWT_SIGNING_KEY=collectstatic-jwt-key-at-build-time-only-0123456789-not-a-secret \
    /app/.venv/bin/python manage.py collectstatic --noinput --verbosity 0

# --- Runtime: the slim base, the virtualenv, the code, the static files; nothing else ------------
# psycopg[binary], orjson and brotli are wheels with their libraries inside: no apt packages.
FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/app/.venv \
    PATH="/app/.venv/bin:$PATH"
# A non-root user, uid 1000. /app/media (MEDIA_ROOT) and /srv/static are where
# docker-compose.yml mounts its media and static volumes: a new volume takes the owner of its
# mount point, so the app user can write uploads and the static copy there.
RUN groupadd --gid 1000 app \
    && useradd --uid 1000 --gid app --no-create-home --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/media /srv/static \
    && chown app:app /app/media /srv/static
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY --from=builder /app/staticfiles /app/staticfiles
# The code stays owned by root: the app user can read it, not change it.
COPY . .
# Numeric, so a runtime can verify it is not root without reading /etc/passwd (the app user).
USER 1000:1000
EXPOSE 8000
# Liveness of the web role on its $PORT (8000 unless set): python, as the slim image has no
# curl; exec form, so no shell is needed; an error status or no answer raises and fails it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["scripts/web"]
