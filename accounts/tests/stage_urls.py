"""The project's URLs plus the page of a test login stage (accounts/tests/test_stages.py)."""

from django.http import HttpResponse
from django.urls import path

from accounts import stages
from identity.urls import urlpatterns as project_urlpatterns


def confirm(request):
    """The test stage's page: GET shows it, POST with code=ok satisfies it."""
    if stages.pending(request, stage="confirm") is None:
        return HttpResponse("no pending login", status=400)
    if request.method == "POST" and request.POST.get("code") == "ok":
        return stages.advance(request, stage="confirm", amr=["otp"])
    return HttpResponse("enter the code")


urlpatterns = [path("test-stage/", confirm), *project_urlpatterns]
