"""/ops/… operator pages (included from optionsengine/urls.py under "ops/")."""

from django.urls import path

from optionsengine.ops import views

urlpatterns = [
    path("", views.monitor, name="ops-monitor"),
    path("trace/<str:signal_id>", views.trace, name="ops-trace"),
]
