"""The project's URLs plus the comparison views under /bench/."""

from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/floor/<str:execution_id>", views.floor),
    path("bench/legacy/<str:execution_id>", views.legacy),
    path("bench/drf/<str:execution_id>", views.DrfDefaultView.as_view()),
    path("bench/doc-roundtrip/<str:execution_id>", views.doc_roundtrip),
    path("bench/doc-roundtrip-json/<str:execution_id>", views.doc_roundtrip_json),
    path("", include("brandtest.urls")),
]
