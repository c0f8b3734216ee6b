"""Routes of the legacy mini-program contract (LEGACY_CONTRACT.md section 1)."""

from django.urls import path

from records.legacy import views

urlpatterns = [
    path("test/status/<str:execution_id>", views.TestStatusView.as_view(), name="legacy-status"),
    path("api/test-progress", views.TestProgressView.as_view(), name="legacy-progress"),
]
