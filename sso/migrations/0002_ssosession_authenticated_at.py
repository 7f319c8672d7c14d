"""SSOSession.authenticated_at: the login time, until now kept in the Django session
(accounts.sessions). Sessions that exist already get their start, the earliest time their user
can have authenticated: a max_age request then asks them to log in no later than before."""

from django.db import migrations, models
from django.db.models import F


def from_created_at(apps, schema_editor):
    SSOSession = apps.get_model("sso", "SSOSession")
    SSOSession.objects.filter(authenticated_at__isnull=True).update(authenticated_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("sso", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="ssosession",
            name="authenticated_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(from_created_at, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="ssosession",
            name="authenticated_at",
            field=models.DateTimeField(),
        ),
    ]
