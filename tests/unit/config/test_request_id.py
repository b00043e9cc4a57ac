"""The request-id middleware in process: a valid X-Request-ID is kept, a missing or unsafe one is
replaced by a generated one (each request its own)."""

import re

import pytest

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


# --- The middleware, in process -------------------------------------------------------------------
@pytest.mark.parametrize(
    "incoming",
    ["9f1c2b3a-4d5e-6f70-8192-a3b4c5d6e7f8", "edge.req_01", "x" * 128],
    ids=["uuid", "dotted", "128-chars"],
)
def test_a_valid_request_id_is_kept(client, incoming):
    response = client.get("/api/", headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [None, "", "has spaces in it", "x" * 129, "semi;colon", 'quote"d', "ünïcode"],
    ids=["absent", "empty", "spaces", "129-chars", "semicolon", "quote", "non-ascii"],
)
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_generated_one(client, incoming):
    headers = {} if incoming is None else {"X-Request-ID": incoming}
    first = client.get("/api/", headers=headers)["X-Request-ID"]
    second = client.get("/api/", headers=headers)["X-Request-ID"]
    assert GENERATED_ID.match(first) and GENERATED_ID.match(second)
    assert first != second
