"""The audit log's read API, in pieces the admin APIs above assemble (sso.admin_api serves
`GET /api/audit/`, oauth.admin_api the dashboard's recent events): audit sits below rbac and
accounts, so it has neither the permission classes nor the users' `sub`; it parses the
filters, pages the events and shapes them. Only DRF and this app's model are imported here.
"""

import datetime

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import CursorPagination

from . import events
from .models import SecurityEvent


class EventPages(CursorPagination):
    """Newest first, by cursor: no COUNT(*) over a table that only grows, and a page stays
    stable while new events arrive."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class _Person(serializers.Serializer):
    sub = serializers.CharField(allow_null=True)
    username = serializers.CharField()

    class Meta:
        ref_name = "Person"  # its OpenAPI component


class SecurityEventSerializer(serializers.ModelSerializer):
    """One event. `actor` and `subject` are {sub, username} or null; `sub` comes from the
    context's `subs` ({user id: sub}, null for a user deleted since), `username` is the one
    recorded at the time."""

    time = serializers.DateTimeField(source="created_at")
    type = serializers.CharField(source="event")
    actor = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()

    class Meta:
        model = SecurityEvent
        fields = (
            "id",
            "time",
            "type",
            "outcome",
            "actor",
            "subject",
            "client_id",
            "ip_address",
            "user_agent",
            "detail",
        )

    def _person(self, pk, username):
        if pk is None and not username:
            return None
        return {"sub": self.context.get("subs", {}).get(pk), "username": username}

    @extend_schema_field(_Person(allow_null=True))
    def get_actor(self, row):
        return self._person(row.actor_id, row.actor_username)

    @extend_schema_field(_Person(allow_null=True))
    def get_subject(self, row):
        return self._person(row.subject_id, row.subject_username)


class EventFilters(serializers.Serializer):
    """The query parameters of `GET /api/audit/`. `user_id` is set by the view from `user` (a
    sub), which audit cannot resolve itself."""

    type = serializers.ListField(child=serializers.ChoiceField(choices=list(events.DESCRIPTIONS)), required=False)
    outcome = serializers.ChoiceField(choices=[value for value, _ in events.OUTCOMES], required=False)
    client = serializers.CharField(max_length=100, required=False)
    username = serializers.CharField(max_length=150, required=False)
    since = serializers.CharField(required=False)
    until = serializers.CharField(required=False)

    def validate_since(self, value):
        return _moment(value)

    def validate_until(self, value):
        return _moment(value)

    @classmethod
    def parse(cls, params):
        """The validated filters of a QueryDict (`type` may repeat or be comma-separated);
        raises ValidationError (400) for an unknown type or a malformed time."""
        data = {key: params.get(key) for key in ("outcome", "client", "username", "since", "until") if key in params}
        types = [t for value in params.getlist("type") for t in value.split(",") if t]
        if types:
            data["type"] = types
        filters = cls(data=data)
        filters.is_valid(raise_exception=True)
        return filters.validated_data


def _moment(value):
    """An ISO 8601 date-time with its offset (RFC 3339), as the API answers them."""
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise serializers.ValidationError("Give an ISO 8601 date and time with its offset, e.g. 2026-01-31T12:00:00Z.")
    # In UTC: PostgreSQL refuses offsets beyond 15:59 that Python reads (`-22:13`), a 500 before.
    try:
        return moment.astimezone(datetime.UTC)
    except OverflowError:  # year 1 or 9999 moved past the calendar's end
        raise serializers.ValidationError("That date and time is out of range.") from None


def filtered(filters, *, user_id=None):
    """The events matching `filters` (EventFilters.parse), and acted by or on `user_id`."""
    rows = SecurityEvent.objects.all()
    if "type" in filters:
        rows = rows.filter(event__in=filters["type"])
    if "outcome" in filters:
        rows = rows.filter(outcome=filters["outcome"])
    if "client" in filters:
        rows = rows.filter(client_id=filters["client"])
    if "username" in filters:
        name = filters["username"]
        rows = rows.filter(Q(actor_username__iexact=name) | Q(subject_username__iexact=name))
    if user_id is not None:
        rows = rows.filter(Q(actor_id=user_id) | Q(subject_id=user_id))
    if "since" in filters:
        rows = rows.filter(created_at__gte=filters["since"])
    if "until" in filters:
        rows = rows.filter(created_at__lt=filters["until"])
    return rows


def user_ids(rows):
    """The user ids an event list names (to look their subs up)."""
    return {pk for row in rows for pk in (row.actor_id, row.subject_id) if pk is not None}
