"""Addresses, subscription lists and subscribers, moved from the tokens app with their rows.

`tokens.0003` renamed the tables; this adds the models to this app's state only, and
moves their content types (so admin history and permissions follow them).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ("emailaddress", "subscriptionlist", "subscriber")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="notifications", model=model).exists():
            ContentType.objects.filter(app_label="tokens", model=model).update(app_label="notifications")


def return_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="tokens", model=model).exists():
            ContentType.objects.filter(app_label="notifications", model=model).update(app_label="tokens")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("integrations", "0003_tenant_data_retention_days"),
        ("notifications", "0001_endpoints_and_deliveries"),
        ("tokens", "0003_addresses_and_lists_move_to_notifications"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="SubscriptionList",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=100)),
                        ("created", models.DateTimeField(auto_now_add=True)),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="subscription_lists",
                                to="integrations.tenant",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ("tenant__name", "name"),
                        "constraints": [
                            models.UniqueConstraint(fields=("tenant", "name"), name="subscription_list_name_unique")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Subscriber",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("email", models.EmailField(max_length=254)),
                        ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                        ("confirmation_sent_at", models.DateTimeField(blank=True, null=True)),
                        ("unsubscribed_at", models.DateTimeField(blank=True, null=True)),
                        ("created", models.DateTimeField(auto_now_add=True)),
                        (
                            "list",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="subscribers",
                                to="notifications.subscriptionlist",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ("email",),
                        "constraints": [
                            models.UniqueConstraint(fields=("list", "email"), name="subscriber_once_per_list")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="EmailAddress",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("email", models.EmailField(max_length=254)),
                        ("verified_at", models.DateTimeField(blank=True, null=True)),
                        ("verification_sent_at", models.DateTimeField(blank=True, null=True)),
                        ("created", models.DateTimeField(auto_now_add=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="token_email_addresses",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "email address",
                        "verbose_name_plural": "email addresses",
                        "ordering": ("email",),
                        "constraints": [models.UniqueConstraint(fields=("user", "email"), name="email_address_per_user")],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, return_content_types),
    ]
