from django.conf import settings


def site(request):
    """What every page's frame needs: the server's name, and whether people may register."""
    return {"service_name": settings.SITE_NAME, "registration_open": settings.REGISTRATION_OPEN}
