"""Admin building blocks shared by the apps."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers


class ReadOnlyAdminMixin:
    """A ModelAdmin whose rows are never added or edited in the admin: they change only through
    their app's flows. Deleting is refused too unless `allow_delete` is set (what deleting a row
    means is said by the admin that allows it)."""

    allow_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.allow_delete and super().has_delete_permission(request, obj)


def labelled(name, label, *, ordering=None):
    """A list column or read-only field showing the model field `name` under `label`, for the
    fields whose verbose name means nothing to an operator ("Jti", "Application" for a client).
    Its CSS class stays `field-<name>`."""

    def show(obj):
        return getattr(obj, name)

    show.__name__ = name
    return admin.display(description=label, ordering=ordering or name)(show)


def shown_once_page(model_admin, request, obj, *, title, intro, advice, values, back_label):
    """The one page that shows a credential the server made (a client secret, an initial access
    token): answered to the POST that made it, never cached, and stored nowhere — not in a
    redirect's URL, not in a Django message (which sits in the session or a cookie until the
    next page shows it). `values` are (label, value, HTML id) triples; `obj` is the row the
    breadcrumbs and the way back lead to."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": str(obj),
        "opts": model_admin.opts,
        "original": obj,
        "intro": intro,
        "advice": advice,
        "values": values,
        "back_label": back_label,
        "has_view_permission": True,
    }
    response = TemplateResponse(request, "admin/shown_once.html", context)
    add_never_cache_headers(response)  # no-store (admin_view adds it too)
    return response
