"""The example's routes."""

from __future__ import annotations

from django.urls import path

from examples.django_api import views

urlpatterns = [
    path("healthz", views.Healthz.as_view()),
    path("me", views.Me.as_view()),
    path("nql/queries/<str:query>/results", views.NqlResults.as_view()),
    path("devices", views.devices),
]
