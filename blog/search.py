"""Post search: Postgres full-text search over a stored tsvector with a GIN index; SQLite substrings.

On Postgres, `blog_post.search_vector` is a generated column (`GENERATED ALWAYS AS ... STORED`):
the title (weight A) and the body (weight B) as lexemes of the SEARCH_CONFIG text search
configuration (stemmed, stop words dropped), kept by Postgres itself on every insert and update,
and indexed by `post_search_idx` (GIN). A search is `plainto_tsquery(config, terms)`: every word
must occur, as a word (after stemming), in the title or the body; a match costs index lookups,
not a scan of every post. Terms without a letter or digit match as substrings (see `search`).
The column is not a model field (SQLite has no tsvector): the migration creates it, and
`ensure_search_column` rebuilds it after any `migrate` whose SEARCH_CONFIG differs from the column's.

On SQLite (the embedded mode) the search is DRF's: every word must appear in the title or the
body as a case-insensitive substring.
"""

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db.models import Expression, FloatField, Q, Value

COLUMN = "search_vector"
INDEX = "post_search_idx"
# A search ordered by relevance ranks its newest matches, this many at most: ranking reads every
# ranked post's text, so ranking every match made a common word's search slower with every post
# written (41 requests/s at 10,000 posts, 11 at 100,000 in scripts/bench).
RANK_MAX_MATCHES = 1000


def column_expression(config: str) -> str:
    # config is validated ([a-z_]+) by the settings: it can be written into the DDL.
    return (
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(title, '')), 'A') || "
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(body, '')), 'B')"
    )


def ensure_search_column(connection, config: str | None = None) -> bool:
    """Create (or rebuild, when built with another configuration) the search column and its index.

    Postgres only; returns True when it changed the table. Rebuilding rewrites the whole table.
    """
    if connection.vendor != "postgresql":
        return False
    config = config or settings.SEARCH_CONFIG
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
            "JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = 'blog_post'::regclass AND a.attname = %s AND NOT a.attisdropped",
            [COLUMN],
        )
        row = cursor.fetchone()
        if row and f"'{config}'::regconfig" in row[0]:
            return False
        cursor.execute(f"ALTER TABLE blog_post DROP COLUMN IF EXISTS {COLUMN}")
        cursor.execute(
            f"ALTER TABLE blog_post ADD COLUMN {COLUMN} tsvector "
            f"GENERATED ALWAYS AS ({column_expression(config)}) STORED"
        )
        cursor.execute(f"CREATE INDEX {INDEX} ON blog_post USING GIN ({COLUMN})")
    return True


class SearchVectorColumn(Expression):
    """`<the query's post table>.search_vector`: the generated column, which the model does not declare."""

    def __init__(self):
        super().__init__(output_field=SearchVectorField())

    def as_sql(self, compiler, connection):
        alias = compiler.query.get_initial_alias()
        return f"{compiler.quote_name_unless_alias(alias)}.{connection.ops.quote_name(COLUMN)}", []


def search(queryset, terms: list[str], *, ranked: bool = False):
    """Posts matching every term, annotated with `rank` (ts_rank: title words weigh more).

    A term without a letter or digit (`%`, `_`, an emoji) has no lexeme for the text search to
    find: it matches as a case-insensitive substring of the title or the body instead (a scan, for
    those rare terms only).

    `ranked` (the answer is ordered by rank): only the RANK_MAX_MATCHES newest matches are
    kept, found newest first through the list's index, so the ranking costs the same however many
    posts match; older matches are reached by narrowing the search (`created_before`).
    """
    words = [term for term in terms if any(char.isalnum() for char in term)]
    for symbol in (term for term in terms if term not in words):
        queryset = queryset.filter(Q(title__icontains=symbol) | Q(body__icontains=symbol))
    if not words:
        return queryset.annotate(rank=Value(0.0, output_field=FloatField()))
    query = SearchQuery(" ".join(words), search_type="plain", config=settings.SEARCH_CONFIG)
    matches = queryset.alias(_search=SearchVectorColumn()).filter(_search=query)
    if ranked:
        newest = matches.order_by("-created_at", "-id").values("pk")[:RANK_MAX_MATCHES]
        matches = matches.filter(pk__in=newest)
    return matches.annotate(rank=SearchRank(SearchVectorColumn(), query))
