"""Who may do what: the one home of authorization, in the HTTP layer, in two forms.

- Things everyone may read but only their author may change (posts, comments): the object
  permission below, which the views list in `permission_classes`.
- Things that are yours alone (subscriptions, notifications): the views' querysets come from
  selectors scoped to the requesting user, so another user's row does not exist for you: a
  404, which does not even confirm that it exists. (Someone else's draft is a 404 the same way:
  `Post.objects.visible_to`.)

Why here and not in the services: DRF checks permissions in `get_object()`, before the body is
parsed or validated, so a stranger gets a 403 and no feedback on someone else's object; the
OpenAPI schema derives each operation's 403 from these permissions (api/schema.py), so the
documentation cannot drift from what is enforced; and the services are also called by code
that acts for no request user (management commands, tasks), which has nothing to authorize.
A check in both places would run twice per request and could disagree.
"""

from rest_framework import permissions


class IsOwnerOrReadOnly(permissions.BasePermission):
    """Anyone may read; only the author of an object may change it (403 for others)."""

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return obj.author_id == request.user.pk
