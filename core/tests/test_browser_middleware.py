"""core.middleware.BrowserMiddleware: BROWSER_MIDDLEWARE around pages, nothing around protocol
endpoints; the inner layers' hooks called as Django calls them."""

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpResponse, JsonResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.test import AsyncClient, Client
from django.urls import path

from core.middleware import protocol_endpoint

CALLS = []


class Layer:
    """A middleware with every hook, recording what ran (`name` set by the subclasses)."""

    name = ""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        CALLS.append(f"{self.name}:call")
        response = self.get_response(request)
        response[f"X-{self.name}"] = "1"
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        CALLS.append(f"{self.name}:view")

    def process_template_response(self, request, response):
        CALLS.append(f"{self.name}:template")
        return response

    def process_exception(self, request, exception):
        CALLS.append(f"{self.name}:exception")


class Outer(Layer):
    name = "outer"


class Inner(Layer):
    name = "inner"


class Refuses(Layer):
    """Answers from process_view, as CsrfViewMiddleware does on a forged POST."""

    name = "refuses"

    def process_view(self, request, view_func, view_args, view_kwargs):
        return HttpResponse("refused", status=403)


def page(request):
    return HttpResponse("page")


def template_page(request):
    return TemplateResponse(request, engines["django"].from_string("rendered"))


def failing(request):
    raise RuntimeError("the view failed")


def constant(request):
    return JsonResponse({"ok": True})


def not_found(request, exception):
    return HttpResponse("not found", status=404)


handler404 = not_found
urlpatterns = [
    path("page", page),
    path("template", template_page),
    path("failing", failing),
    path("protocol", protocol_endpoint(constant)),
    path("protocol-failing", protocol_endpoint(failing)),
    # The same function as a page on another route: only the wrapped route skips the stack.
    path("constant-page", constant),
]


@pytest.fixture(autouse=True)
def stacks(settings):
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = ["core.middleware.BrowserMiddleware"]
    settings.BROWSER_MIDDLEWARE = [f"{__name__}.Outer", f"{__name__}.Inner"]
    CALLS.clear()


def test_a_page_runs_the_browser_layers_and_their_hooks_in_djangos_order():
    response = Client().get("/page")
    assert response.content == b"page"
    assert CALLS == ["outer:call", "inner:call", "outer:view", "inner:view"]
    assert response.wsgi_request.browser_middleware is True
    assert response["X-outer"] == response["X-inner"] == "1"


def test_a_protocol_endpoint_runs_none_of_them():
    response = Client().get("/protocol")
    assert response.json() == {"ok": True}
    assert CALLS == []
    assert response.wsgi_request.browser_middleware is False
    assert not response.has_header("X-outer")


def test_the_mark_belongs_to_the_route_not_to_the_function():
    Client().get("/constant-page")
    assert CALLS[:2] == ["outer:call", "inner:call"]


def test_an_unknown_path_gets_the_browser_layers():
    response = Client().get("/nowhere")
    assert response.status_code == 404
    assert CALLS == ["outer:call", "inner:call"]
    assert response["X-outer"] == "1"


def test_template_hooks_run_innermost_first_for_pages():
    response = Client().get("/template")
    assert CALLS[-2:] == ["inner:template", "outer:template"]
    assert response.content == b"rendered"


def test_exception_hooks_run_innermost_first_for_pages_and_not_at_all_for_protocol_endpoints():
    browser = Client(raise_request_exception=False)
    assert browser.get("/failing").status_code == 500
    assert CALLS[-2:] == ["inner:exception", "outer:exception"]
    CALLS.clear()
    assert browser.get("/protocol-failing").status_code == 500
    assert CALLS == []


def test_a_view_hook_that_answers_stops_the_view(settings):
    settings.BROWSER_MIDDLEWARE = [f"{__name__}.Outer", f"{__name__}.Refuses", f"{__name__}.Inner"]
    response = Client().get("/page")
    assert response.status_code == 403
    assert CALLS == ["outer:call", "refuses:call", "inner:call", "outer:view"]
    assert Client().get("/protocol").status_code == 200


def test_asgi_runs_the_same_stacks():
    get = async_to_sync(AsyncClient().get)
    assert get("/page").content == b"page"
    assert CALLS == ["outer:call", "inner:call", "outer:view", "inner:view"]
    CALLS.clear()
    assert get("/protocol").json() == {"ok": True}
    assert CALLS == []
