from django.urls import path

from . import views

app_name = "sso"
urlpatterns = [
    path("sessions/", views.sessions_page, name="sessions"),
    path("sessions/logout-everywhere/", views.logout_everywhere, name="logout-everywhere"),
    path("sessions/<uuid:public_id>/end/", views.end_session, name="end-session"),
]
