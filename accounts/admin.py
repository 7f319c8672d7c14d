from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User
from .signals import password_changed


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "subject", "is_active", "is_staff", "last_login")
    search_fields = ("username", "email", "subject")
    readonly_fields = ("subject", "last_login", "date_joined")
    fieldsets = DjangoUserAdmin.fieldsets + (("Identity", {"fields": ("subject",)}),)

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        before = user.password if user is not None else None
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and user is not None:
            user.refresh_from_db(fields=["password"])
            if user.password != before:
                # The administrator's own browser stays logged in when they changed their own.
                own = request.user.pk == user.pk
                password_changed.send(sender=User, user=user, request=request if own else None)
        return response
