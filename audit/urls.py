from rest_framework.routers import SimpleRouter

from audit.api import AuditLogViewSet

router = SimpleRouter(use_regex_path=False)
router.register("audit-logs", AuditLogViewSet, basename="audit-log")

urlpatterns = router.urls
