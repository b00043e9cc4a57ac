"""What the platform the app runs on tells it: its public host name, and the commit deployed."""

from config.env import env

# --- Public host names: allowed and trusted for CSRF (security.py) -------------------------
FLY_APP_NAME = env.str("FLY_APP_NAME", default="")
PLATFORM_HOSTS = [
    host
    for host in (
        f"{FLY_APP_NAME}.fly.dev" if FLY_APP_NAME else "",
        env.str("RENDER_EXTERNAL_HOSTNAME", default=""),
        env.str("RAILWAY_PUBLIC_DOMAIN", default=""),
    )
    if host
]

# --- The commit being run: Sentry's release (sentry.py) -------------------------------------
# Render: RENDER_GIT_COMMIT, Railway: RAILWAY_GIT_COMMIT_SHA. Fly.io exposes no commit, only
# FLY_IMAGE_REF (registry.fly.io/APP:deployment-ID); its tag names the deployed image, and is the
# commit when deploying with `fly deploy --image-label <sha>`. A whole image reference cannot be
# a release: Sentry refuses release names containing "/".
_FLY_IMAGE_TAG = env.str("FLY_IMAGE_REF", default="").rpartition("/")[2].partition("@")[0].partition(":")[2]
PLATFORM_RELEASE = (
    env.str("RENDER_GIT_COMMIT", default="") or env.str("RAILWAY_GIT_COMMIT_SHA", default="") or _FLY_IMAGE_TAG
)
