"""The roles and permissions admin, and the user's roles inline (accounts' hook): pages load,
and a role given or taken on the user's page refuses their earlier tokens."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from conftest import bearer
from rbac import flows
from rbac.admin import RoleAssignmentInline
from rbac.models import Role
from sso import revocation
from sso.models import UserNotBefore

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, make_user):
    flows.seed_default_roles()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


@pytest.mark.usefixtures("mfa_not_required")
def test_pages_load(staff):
    operator = Role.objects.get(name="operator")
    for url in (
        "/admin/rbac/role/",
        "/admin/rbac/role/?q=oper",
        f"/admin/rbac/role/{operator.pk}/change/",
        "/admin/rbac/role/add/",
        "/admin/rbac/permission/",
        "/admin/rbac/permission/add/",
    ):
        assert staff.get(url).status_code == 200, url
    assert "clients.manage" in staff.get("/admin/rbac/permission/").content.decode()


class FormValues(HTMLParser):
    """The values a browser would submit from a page's forms (inputs, selects, textareas)."""

    def __init__(self):
        super().__init__()
        self.values, self._select, self._textarea = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.values.append((name, attrs.get("value", "on" if attrs.get("type") == "checkbox" else "")))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values.append((self._select, attrs.get("value", "")))
        elif tag == "textarea":
            self._textarea = name
            self.values.append((name, ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            name, value = self.values.pop()
            self.values.append((name, value + data))


def submitted(page, **changes):
    parser = FormValues()
    parser.feed(page.content.decode())
    data = {}
    for name, value in parser.values:
        data.setdefault(name, []).append(value)
    data.pop("csrfmiddlewaretoken", None)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = [value]
    return data


@pytest.mark.usefixtures("mfa_not_required")
def test_the_user_page_shows_and_changes_roles(staff, user, flow, django_capture_on_commit_callbacks):
    from django.contrib import admin

    from accounts.models import User

    page = admin.site._registry[User]
    assert RoleAssignmentInline in page.get_inlines(None, user)
    token = flow.tokens()["access_token"]
    auditor = Role.objects.get(name="auditor")
    url = f"/admin/accounts/user/{user.pk}/change/"
    data = submitted(
        staff.get(url), **{"role_assignments-TOTAL_FORMS": "1", "role_assignments-0-role": str(auditor.pk)}
    )
    data["role_assignments-0-user"] = [str(user.pk)]
    with django_capture_on_commit_callbacks(execute=True):  # publishes the not-before to Redis, as in production
        response = staff.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response.content
    assert list(user.roles.values_list("name", flat=True)) == ["auditor"]
    assert staff.get("/api/me", **bearer(token)).status_code == 401  # the role change refused it
    earlier = timezone.now() - timedelta(minutes=1)  # undo the bump, in the database and in Redis
    UserNotBefore.objects.filter(user=user).update(not_before=earlier)
    revocation.set_not_before(user.pk, earlier)
    token = flow.tokens()["access_token"]
    assert staff.get("/api/me", **bearer(token)).status_code == 200
    assignment = user.role_assignments.get()
    data = submitted(staff.get(url), **{"role_assignments-0-DELETE": "on"})
    assert data["role_assignments-0-id"] == [str(assignment.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url, data)
    assert response.status_code == 302
    assert not user.roles.exists()
    assert staff.get("/api/me", **bearer(token)).status_code == 401
    assert "auditor" in staff.get(url).content.decode()  # the inline's choices
