from django.contrib import admin

from accounts.admin import add_user_inline

from .models import Permission, Role, RoleAssignment


@admin.register(Permission)
class PermissionAdmin(admin.ModelAdmin):
    list_display = ("codename", "description")
    search_fields = ("codename", "description")


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "holders")
    search_fields = ("name", "description")
    filter_horizontal = ()  # a plain multiple select (see accounts.admin.UserAdmin)
    fields = ("name", "description", "permissions")

    @admin.display(description="users")
    def holders(self, role):
        return role.assignments.count()


class RoleAssignmentInline(admin.TabularInline):
    """The user's roles, on their admin page (each change refuses their earlier tokens)."""

    model = RoleAssignment
    extra = 0
    fields = ("role", "assigned_at")
    readonly_fields = ("assigned_at",)
    verbose_name = "role"
    verbose_name_plural = "roles"


add_user_inline(RoleAssignmentInline)
