"""FTP logins become unique across connections, held normalised in a column of their own.

Existing TCN connections get their login (the `ftp_username` set, or the default
`tenant-slug.connection-name`), compared case-insensitively. Where two connections already
share one, the older connection (lower id) keeps it: a login claimed later is the one that
was taken from its owner. The newer connection is left without a login (its FTP sessions
are refused with 530) until someone saves it with a login of its own; the migration prints
which connections those are.
"""

from django.db import migrations, models


def fill_logins(apps, schema_editor):
    Connection = apps.get_model("integrations", "VendorConnection")
    taken = set()
    for conn in Connection.objects.filter(vendor="tcn").select_related("tenant").order_by("pk"):
        login = ((conn.history_values or {}).get("ftp_username") or f"{conn.tenant.slug}.{conn.name}").strip().casefold()
        if login in taken:
            print(f"\n  {conn.tenant.slug}/{conn.name}: FTP login {login!r} is already another connection's; left without one")
            continue
        taken.add(login)
        Connection.objects.filter(pk=conn.pk).update(ftp_login=login)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="vendorconnection",
            name="ftp_login",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=130,
                null=True,
                unique=True,
                verbose_name="FTP login (normalised)",
            ),
        ),
        migrations.RunPython(fill_logins, migrations.RunPython.noop),
    ]
