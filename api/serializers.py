"""What each resource shows. Never a credential, a token value or a raw error text.

Times are ISO 8601 in UTC with a `Z` (DRF writes `+00:00` as `Z`; the project's zone is UTC).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from collectors.models import (
    Agent,
    AgentCurrentState,
    AgentQueue,
    AgentStateEvent,
    CollectionRun,
    CollectionSchedule,
    IntervalVolume,
    Queue,
)
from integrations.models import VendorConnection
from tokens.models import AccessToken


class StreamStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = CollectionSchedule
        fields = ("stream", "enabled", "status", "status_since")


class ConnectionSerializer(serializers.ModelSerializer):
    streams = StreamStatusSerializer(source="schedules", many=True, read_only=True)

    class Meta:
        model = VendorConnection
        # An explicit list: base URLs, values and secrets stay out.
        fields = ("id", "vendor", "name", "enabled", "time_zone", "created", "streams")


class QueueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Queue
        fields = ("id", "connection", "vendor_id", "name", "active", "first_seen")


class AgentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agent
        fields = ("id", "connection", "vendor_id", "name", "group", "active", "first_seen")


class MembershipSerializer(serializers.ModelSerializer):
    connection = serializers.IntegerField(source="agent.connection_id", read_only=True)

    class Meta:
        model = AgentQueue
        fields = ("id", "connection", "agent", "queue", "active", "first_seen", "last_seen")


class IntervalSerializer(serializers.ModelSerializer):
    queue_vendor_id = serializers.CharField(source="queue.vendor_id", read_only=True)

    class Meta:
        model = IntervalVolume
        fields = (
            "id",
            "connection",
            "queue",
            "queue_vendor_id",
            "interval_start",
            "entered",
            "abandoned",
            "handle_seconds",
            "collected_at",
        )


class StateEventSerializer(serializers.ModelSerializer):
    agent_vendor_id = serializers.CharField(source="agent.vendor_id", read_only=True)

    class Meta:
        model = AgentStateEvent
        fields = (
            "id",
            "connection",
            "agent",
            "agent_vendor_id",
            "state",
            "raw_code",
            "raw_label",
            "reason_code",
            "start",
            "end",
        )


class CurrentStateSerializer(serializers.ModelSerializer):
    agent_vendor_id = serializers.CharField(source="agent.vendor_id", read_only=True)

    class Meta:
        model = AgentCurrentState
        fields = (
            "agent",
            "agent_vendor_id",
            "connection",
            "state",
            "raw_code",
            "raw_label",
            "reason_code",
            "since",
            "last_seen",
        )


class StreamHealthSerializer(serializers.ModelSerializer):
    last_error_class = serializers.CharField(read_only=True, allow_blank=True)
    gaps = serializers.SerializerMethodField()

    class Meta:
        model = CollectionSchedule
        fields = (
            "id",
            "connection",
            "stream",
            "enabled",
            "status",
            "status_since",
            "last_run_at",
            "last_success_at",
            "next_run_at",
            "consecutive_failures",
            "last_error_class",
            "gaps",
        )

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_gaps(self, obj: CollectionSchedule) -> int | None:
        """Missing 15-minute intervals of the recent days (history streams only)."""
        coverage = self.context.get("coverage", {}).get(obj.connection_id)
        if coverage is None or obj.stream not in self.context.get("history_streams", ()):
            return None
        return coverage.gaps


class NextReminderSerializer(serializers.Serializer):
    stage = serializers.CharField()
    day = serializers.DateField(help_text="In the tenant's time zone.")
    days_left = serializers.IntegerField()


class TokenExpirySerializer(serializers.ModelSerializer):
    days_left = serializers.SerializerMethodField()
    next_reminder = serializers.SerializerMethodField()

    class Meta:
        model = AccessToken
        # Only the bookkeeping: the value stays in the connection's encrypted secrets.
        fields = (
            "id",
            "connection",
            "section",
            "service_login",
            "issued",
            "expires",
            "days_left",
            "next_reminder",
        )

    def get_days_left(self, obj: AccessToken) -> int:
        return obj.days_left()

    @extend_schema_field(NextReminderSerializer(allow_null=True))
    def get_next_reminder(self, obj: AccessToken) -> dict[str, Any] | None:
        plan = obj.plan()
        if not plan:
            return None
        first = plan[0]
        return {"stage": first.stage, "day": first.day.isoformat(), "days_left": first.days_left}


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = CollectionRun
        # The class of an error, not its text: a message may quote a vendor's payload.
        fields = (
            "id",
            "connection",
            "stream",
            "window_start",
            "window_end",
            "started_at",
            "finished_at",
            "status",
            "rows_created",
            "rows_updated",
            "rows_deactivated",
            "error_class",
            "source",
        )
