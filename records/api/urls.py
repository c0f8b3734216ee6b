"""Routes of the v1 API."""

from rest_framework.routers import DefaultRouter

from records.api.views import ExecutionViewSet, PlatformViewSet

router = DefaultRouter()
router.register("executions", ExecutionViewSet, basename="execution")
router.register("platforms", PlatformViewSet, basename="platform")

urlpatterns = router.urls
