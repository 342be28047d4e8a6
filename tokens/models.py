"""Expiring credentials and their reminders (the tokens work fills in the rest)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from integrations.models import VendorConnection
from integrations.vendors.base import SECTIONS

SECTION_CHOICES = tuple((s, s) for s in SECTIONS)


class AccessToken(models.Model):
    """A credential of a connection that expires (TCN access tokens live one year).

    The value itself stays in the connection's encrypted secrets (`section`); this row
    tracks who it belongs to and when it lapses.
    """

    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="access_tokens")
    section = models.CharField(max_length=16, choices=SECTION_CHOICES, default="realtime")
    service_login = models.CharField(
        max_length=200, blank=True, help_text="The TCN login the token was created on."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_tokens",
        help_text="The user the token was created for; gets every reminder stage.",
    )
    issued = models.DateField()
    expires = models.DateField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("expires",)
        constraints = [
            models.UniqueConstraint(fields=("connection", "section"), name="token_per_connection_section"),
            models.CheckConstraint(condition=Q(expires__gt=F("issued")), name="token_expires_after_issued"),
        ]

    def __str__(self) -> str:
        return f"{self.connection} · {self.service_login or self.section}"
