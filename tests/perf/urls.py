"""The site's URLs, plus the floor the hot paths are measured against: a constant-JSON view,
once as a protocol endpoint and once as a page (tests/perf/test_hot_path_cost.py)."""

from django.http import JsonResponse
from django.urls import path

from core.middleware import protocol_endpoint
from identity.urls import urlpatterns as site


def constant(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("perf/constant", protocol_endpoint(constant), name="perf-constant"),
    path("perf/constant-page", constant, name="perf-constant-page"),
    *site,
]
