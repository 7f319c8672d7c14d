"""Admin building blocks shared by the apps."""


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
