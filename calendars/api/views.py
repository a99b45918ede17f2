from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import signed_in_user
from calendars import services
from calendars.api.serializers import CalendarFeedCreatedSerializer, CalendarFeedSerializer
from calendars.exceptions import CalendarFeedNotAllowed
from calendars.ics import calendar_feed_render
from calendars.models import CalendarFeed
from calendars.selectors import (
    calendar_feed_appointments,
    calendar_feed_list_visible,
    calendar_feed_owner,
)
from core.api.negotiation import FirstRendererNegotiation
from core.api.pagination import PageNumberPagination
from core.openapi.error_envelopes import error_responses


class IsDoctorOrPatient(BasePermission):
    message = "Only doctors and patients have a calendar of their own."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_doctor or user.is_patient))


@extend_schema(tags=["calendar feeds"])
class CalendarFeedViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Secret calendar addresses: a doctor or a patient makes them for themselves, lists and
    revokes their own; an admin lists and revokes anyone's."""

    serializer_class = CalendarFeedSerializer
    pagination_class = PageNumberPagination  # counted in a subquery: the safe form, a short list
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CalendarFeed.objects.none()
        return calendar_feed_list_visible(user=signed_in_user(self.request))

    def get_permissions(self):
        if self.action == "create":
            return [IsDoctorOrPatient()]
        return [IsAuthenticated()]

    @extend_schema(
        summary="Open calendar feeds",
        description="Mine (an admin: everyone's), newest first; revoked ones are not listed.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={201: CalendarFeedCreatedSerializer, **error_responses(CalendarFeedNotAllowed)},
        summary="Make a calendar feed of my appointments",
        description="Answers the feed's secret `url` (`GET /ics/{token}.ics`), shown this once. "
        "Doctors and patients only.",
    )
    def create(self, request, *args, **kwargs):
        feed, token = services.calendar_feed_create(owner=request.user)
        data = CalendarFeedCreatedSerializer(
            feed, context={"request": request, "token": token}
        ).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={204: OpenApiResponse(description="Revoked")},
        summary="Revoke a calendar feed",
        description="Its address answers 404 from now on, for good.",
    )
    def destroy(self, request, *args, **kwargs):
        services.calendar_feed_revoke(feed=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["calendar feeds"])
class CalendarFeedIcsView(APIView):
    """A calendar feed, read by calendar applications: no sign-in, the token in the address
    is the credential. Reading it changes nothing."""

    authentication_classes = []
    permission_classes = [AllowAny]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        auth=[],
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.STR,
                description="RFC 5545: one VEVENT per appointment (UID its id, SEQUENCE its "
                "number of status moves, STATUS TENTATIVE, CONFIRMED or CANCELLED), times in "
                "UTC, the owner's zone in X-WR-TIMEZONE; no clinical text.",
            )
        },
        summary="Read a calendar feed (iCalendar)",
        description="Unknown or revoked tokens, and feeds of deactivated accounts, answer 404.",
    )
    def get(self, request, token: str):
        owner = calendar_feed_owner(token=token)
        if owner is None:
            raise NotFound("No such calendar feed.")
        rows = calendar_feed_appointments(owner=owner, now=timezone.now())
        response = HttpResponse(
            calendar_feed_render(owner=owner, rows=rows),
            content_type="text/calendar; charset=utf-8",
        )
        response["Content-Disposition"] = 'inline; filename="careslot.ics"'
        # A bearer secret in the address: no shared cache keeps it, no page links on with it.
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
