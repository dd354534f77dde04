"""Test URLconf: the project's URLs plus a login helper for the headless browser.

Chromium on the command line cannot be handed a cookie, so the browser test opens
`/__test__/login/<username>?next=/ops/pnl`, which logs in (sets the session cookie) and redirects.
Until the pipeline monitor's URL (`ops-monitor`, linked from the operator layout) is routed, a
placeholder keeps the layout renderable.
"""

from django.contrib.auth import get_user_model, login
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, path, reverse

from optionsengine.urls import urlpatterns as project_urlpatterns


def login_as(request, username):
    user = get_user_model().objects.get(username=username)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(request.GET.get("next", "/"))


urlpatterns = [path("__test__/login/<str:username>", login_as), *project_urlpatterns]

try:
    reverse("ops-monitor", urlconf="optionsengine.urls")
except NoReverseMatch:
    urlpatterns.append(path("__test__/ops-monitor", lambda request: HttpResponse("monitor"), name="ops-monitor"))
