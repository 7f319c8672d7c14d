"""identity's URLs and the notes API example's, in one test server."""

import sys
from pathlib import Path

from django.urls import include, path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

urlpatterns = [path("", include("notes_api.urls")), path("", include("identity.urls"))]
