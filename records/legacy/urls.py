"""Routes of the legacy mini-program contract (docs/legacy-contract.md)."""

from django.urls import path

from records.legacy import views

urlpatterns = [
    path("api/test", views.HealthView.as_view(), name="legacy-health"),
    path("api/perform-brand-test", views.PerformBrandTestView.as_view(), name="legacy-start"),
    path("test/status/<str:execution_id>", views.TestStatusView.as_view(), name="legacy-status"),
    path("api/test-progress", views.TestProgressView.as_view(), name="legacy-progress"),
    path(
        "api/diagnosis/report/<str:execution_id>",
        views.DiagnosisReportView.as_view(),
        name="legacy-report",
    ),
    path("api/diagnosis/history", views.DiagnosisHistoryView.as_view(), name="legacy-history"),
    path("api/login", views.LoginView.as_view(), name="legacy-login"),
    path("api/refresh-token", views.RefreshTokenView.as_view(), name="legacy-refresh-token"),
    path("api/validate-token", views.ValidateTokenView.as_view(), name="legacy-validate-token"),
]
