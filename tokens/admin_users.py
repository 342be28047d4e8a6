"""The user admin refuses an address that would break the address rules (`tokens.addresses`).

Django's own user admin, with a change form whose email is checked: the address must not
belong to another user of one of this user's tenants, and an account owner or a token
owner keeps a person's address. Imported by `tokens.admin`, so admin autodiscovery finds it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError

from tokens.addresses import user_email_problems

User = get_user_model()


class PersonChangeForm(UserChangeForm):
    def clean_email(self) -> str:
        email: str = self.cleaned_data.get("email") or ""
        if email and (problems := user_email_problems(self.instance, email)):
            raise ValidationError(problems)
        return email


class PersonAdmin(UserAdmin):
    form = PersonChangeForm


def register(site: Any = admin.site) -> None:
    if site.is_registered(User):
        site.unregister(User)
    site.register(User, PersonAdmin)


register()
