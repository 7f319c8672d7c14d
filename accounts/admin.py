from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User
from .signals import password_change_by


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "subject", "is_active", "is_staff", "last_login")
    search_fields = ("username", "email", "subject")
    readonly_fields = ("subject", "last_login", "date_joined")
    fieldsets = DjangoUserAdmin.fieldsets + (("Identity", {"fields": ("subject",)}),)

    def user_change_password(self, request, id, form_url=""):
        # The save announces the change (accounts.signals); the administrator's own browser
        # stays logged in when they changed their own password.
        with password_change_by(request):
            return super().user_change_password(request, id, form_url)
