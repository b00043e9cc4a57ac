"""The post list's query parameters."""

from django_filters import rest_framework as filters

from api.filters import MAX_ID, BooleanFilter, IdFilter, IsoDateTimeFilter

from .models import Post


class PostFilter(filters.FilterSet):
    """`?author=<user id>&published=true&created_after=<ISO 8601>&created_before=<ISO 8601>`.

    Invalid values answer 400 with the errors per field.
    """

    author = IdFilter(field_name="author_id", min_value=1, max_value=MAX_ID, help_text="Author's user id.")
    published = BooleanFilter(help_text="true for published posts, false for your drafts.")
    created_after = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lte", help_text="Created at or before (ISO 8601)."
    )

    class Meta:
        model = Post
        fields = ["author", "published", "created_after", "created_before"]

    def get_form_class(self):
        # The form depends only on the declared filters: built once per class, not per request.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class
