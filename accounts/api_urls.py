from django.urls import path

from . import views

urlpatterns = [
    path("users/", views.RegistrationAPIView.as_view(), name="api-users"),
]
