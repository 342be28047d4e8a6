"""Addresses, subscription lists and subscribers move to the notifications app, rows and all.

The tables are renamed to the new app's names here; `notifications.0002` adds the models
to that app's state without touching the database.
"""

from django.db import migrations

MOVED = ("emailaddress", "subscriptionlist", "subscriber")


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0002_bannershown_emailaddress_subscriber_subscriptionlist_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name, f"notifications_{name}") for name in MOVED],
            state_operations=[
                migrations.DeleteModel("Subscriber"),
                migrations.DeleteModel("SubscriptionList"),
                migrations.DeleteModel("EmailAddress"),
            ],
        ),
    ]
