"""The signed-in user's notifications (unread first, mark read, open the record) and their choice of
channels per kind. Every member has these pages; each sees only their own."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse

from traveler.core.errors import TravelerError
from traveler.core.registry import NOTIFICATION_CHANNELS, registry
from traveler.core.selectors import (
    notification_list_for_user,
    notification_preferences_for_user,
    notification_unread_count,
)
from traveler.core.services.notifications import (
    notification_mark_read,
    notification_preference_set,
    notifications_mark_all_read,
)
from traveler.core.ui.display import format_datetime
from traveler.core.ui.generic import PAGE_SIZE, ShellView


class NotificationList(ShellView):
    def get(self, request):
        page = Paginator(notification_list_for_user(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
        kinds = registry.notification_kinds
        rows = [{"n": n, "kind": kinds[n.kind].label if n.kind in kinds else n.kind,
                 "created": format_datetime(n.created_at)} for n in page]
        return render(request, "core/notification_list.html", {
            "rows": rows, "page": page, "unread": notification_unread_count(request.user)})

    def post(self, request):
        """Mark all read."""
        count = notifications_mark_all_read(user=request.user)
        messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
        return HttpResponseRedirect(reverse("core:notification-list"))


class NotificationRead(ShellView):
    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            n = notification_mark_read(user=request.user, notification_id=pk)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"“{n.title}” marked read.")
        return HttpResponseRedirect(reverse("core:notification-list"))


class NotificationOpen(ShellView):
    """Follow a notification to its record; opening it marks it read."""

    def get(self, request, pk):
        try:
            n = notification_mark_read(user=request.user, notification_id=pk)
        except TravelerError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("core:notification-list"))
        # ``url`` is a path on this site: notify() accepts nothing else.
        return HttpResponseRedirect(n.url or reverse("core:notification-list"))


class NotificationPreferences(ShellView):
    def get(self, request):
        rows = [{"kind": row["kind"], "cells": [
            {"code": code, "label": NOTIFICATION_CHANNELS[code], **state} for code, state in row["channels"].items()]}
            for row in notification_preferences_for_user(request.user, request.tenant)]
        return render(request, "core/notification_preferences.html", {"rows": rows, "channels": NOTIFICATION_CHANNELS})

    def post(self, request):
        """The whole table at once: a box that is not sent is off."""
        rows = notification_preferences_for_user(request.user, request.tenant)
        try:
            with transaction.atomic():
                for row in rows:
                    for channel, state in row["channels"].items():
                        wanted = f"{row['kind'].code}:{channel}" in request.POST
                        if wanted != state["enabled"]:
                            notification_preference_set(user=request.user, kind=row["kind"].code,
                                                        channel=channel, enabled=wanted)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Your notification choices are saved.")
        return HttpResponseRedirect(reverse("core:notification-preferences"))


urlpatterns = [
    path("notifications/", NotificationList.as_view(), name="notification-list"),
    path("notifications/preferences/", NotificationPreferences.as_view(), name="notification-preferences"),
    path("notifications/<int:pk>/read/", NotificationRead.as_view(), name="notification-read"),
    path("notifications/<int:pk>/open/", NotificationOpen.as_view(), name="notification-open"),
]
