from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "subject", "is_active", "is_staff", "last_login")
    search_fields = ("username", "email", "subject")
    readonly_fields = ("subject", "last_login", "date_joined")
    fieldsets = DjangoUserAdmin.fieldsets + (("Identity", {"fields": ("subject",)}),)
