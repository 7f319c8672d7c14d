"""Admin building blocks shared by the apps."""

from django.contrib import admin


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
