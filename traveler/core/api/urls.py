from django.urls import path
from rest_framework.routers import SimpleRouter

from traveler.core.api import approvals, documents, notifications, views

router = SimpleRouter()
router.register("companies", views.CompanyViewSet, basename="company")
router.register("users", views.MemberViewSet, basename="member")
router.register("roles", views.RoleViewSet, basename="role")
router.register("modules", views.ModuleViewSet, basename="module")
router.register("jobs", views.JobViewSet, basename="job")
router.register("events", views.EventViewSet, basename="event")
router.register("tokens", views.TokenViewSet, basename="token")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("signatures", approvals.SignatureViewSet, basename="signature")
router.register("approval-templates", approvals.ApprovalTemplateViewSet, basename="approvaltemplate")
router.register("approval-requests", approvals.ApprovalRequestViewSet, basename="approvalrequest")
router.register("document-types", documents.DocumentTypeViewSet, basename="documenttype")
router.register("documents", documents.DocumentViewSet, basename="document")
router.register("document-revisions", documents.DocumentRevisionViewSet, basename="documentrevision")
router.register("notifications", notifications.NotificationViewSet, basename="notification")
router.register("notification-preferences", notifications.NotificationPreferenceViewSet,
                basename="notification-preference")

urlpatterns = [
    path("me/", views.me, name="me"),
    path("permissions/", views.permission_list, name="permissions"),
    *router.urls,
]
