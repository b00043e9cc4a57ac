from django.contrib import admin

from .models import Comment, Notification, Post, Subscription


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "author", "published", "published_at", "notifications_pending", "created_at"]
    list_filter = ["published", "notifications_pending"]
    search_fields = ["title", "body"]
    list_select_related = ["author"]
    raw_id_fields = ["author"]
    date_hierarchy = "created_at"


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["id", "post", "author", "created_at"]
    search_fields = ["body"]
    list_select_related = ["post", "author"]
    raw_id_fields = ["post", "author"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["id", "subscriber", "author", "created_at"]
    list_select_related = ["subscriber", "author"]
    raw_id_fields = ["subscriber", "author"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "post", "created_at", "read_at", "emailed_at"]
    list_filter = ["read_at"]
    list_select_related = ["recipient", "post"]
    raw_id_fields = ["recipient", "post"]
