"""`GET /`: where a newcomer finds the docs, the schema, the health check and the admin site.

Outside the API (/api/v1/), so not in its schema: clients build against what the schema
lists, and this only points a person to it."""

from django.conf import settings
from django.urls import reverse
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

# Each entry: the key in the answer, and the URL's name.
LINKS = [
    ("docs", "swagger-ui"),
    ("redoc", "redoc"),
    ("schema", "schema"),
    ("health", "health"),
    ("admin", "admin:index"),
]


class IndexView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    schema = None  # left out of the schema (module doc)

    def get(self, request):
        return Response(
            {
                "name": settings.SPECTACULAR_SETTINGS["TITLE"],
                "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                **{key: request.build_absolute_uri(reverse(name)) for key, name in LINKS},
            }
        )
