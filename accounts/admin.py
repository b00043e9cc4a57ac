from django.contrib import admin

from . import services
from .models import TokenFamily


@admin.register(TokenFamily)
class TokenFamilyAdmin(admin.ModelAdmin):
    """Sign-ins and their refresh tokens' fate: read-only, but a staff member can end one (a lost
    device) with the action, as signing out would."""

    list_display = ["id", "user", "created_at", "expires_at", "revoked_at", "revoked_reason"]
    list_filter = ["revoked_reason"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    search_fields = ["user__username"]
    readonly_fields = ["id", "user", "created_at", "expires_at", "revoked_at", "revoked_reason"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected sign-ins (their refresh tokens stop working)")
    def revoke(self, request, queryset):
        count = services.token_families_revoke(queryset.filter(revoked_at__isnull=True))
        self.message_user(request, f"{count} sign-in(s) revoked.")
