"""What the health-probe tests share: the Host a platform's checker sends, and what a failed check
must never reveal."""

from tests.support import child

# Fly probes with the Machine's private address as Host; never in ALLOWED_HOSTS.
PROBE_HOST = "172.19.3.7:8000"


def assert_reveals_no_address(body: str, database_url: str) -> None:
    """Failures name the component and the exception class, never where it is or how to log in."""
    port = database_url.rsplit(":", 1)[1].split("/")[0]
    for secret in (child.DB_PASSWORD, port, "127.0.0.1", "postgres://", "blog:"):
        assert secret not in body, f"{secret!r} leaked into {body}"
