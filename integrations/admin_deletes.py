"""Deleting in the admin: counted, confirmed by typing the count, refused where it would orphan.

A bulk delete (the changelist action, also with "select all N" across pages) shows how many
rows it will delete and goes ahead only when that number is typed back: a select-across of
thousands of rows never passes on one absent-minded click. Where deleting memberships would
leave a tenant without its last owner or without anyone to manage it, both the bulk action
and the single delete page say so and delete nothing. The rule itself lives on the model
(`integrations.models.orphan_problems`), so the change form, the inline and the queryset
hold it too; this module only explains it before anyone presses the button.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse

from integrations.models import Membership, orphan_problems

REFUSALS = "switchboard_refusals"


def delete_refusals(model: type[Model], pks: list[Any]) -> list[str]:
    """Why deleting these rows is refused (empty when it is allowed)."""
    if model is Membership:
        return orphan_problems(removed=set(pks), lock=False)
    return []


def counted_delete_selected(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
    """Django's delete action, which deletes only once the count is typed back."""
    n = queryset.count()
    error = ""
    if request.POST.get("post"):
        typed = request.POST.get("confirm_count", "").strip()
        if typed != str(n):
            error = (
                f"Type {n} (the number of {model_ngettext(modeladmin.opts, n)} to delete) to confirm; "
                f"{typed or 'nothing'} was typed."
            )
            # Without "post", Django's action shows the confirmation page again.
            post = request.POST.copy()
            post.pop("post", None)
            request.POST = post  # type: ignore[assignment]  # mutable from here on, as Django's own views do
    response = delete_selected(modeladmin, request, queryset)
    if response is not None and response.context_data is not None:
        refusals = getattr(request, REFUSALS, [])
        response.context_data.update({"count": n, "count_error": error, "refusals": refusals})
        if not refusals and not response.context_data.get("perms_lacking"):
            response.context_data["title"] = f"Delete {n} {model_ngettext(modeladmin.opts, n)}?"
    return response


class GuardedDeleteMixin:
    """For the ModelAdmins of tenants, memberships and connections."""

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]  # a mixin: ModelAdmin follows it in the MRO
        if "delete_selected" in actions:
            _func, name, description = actions["delete_selected"]
            actions["delete_selected"] = (counted_delete_selected, name, description)
        return actions

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, Any, Any]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)  # type: ignore[misc]  # a mixin: ModelAdmin follows it in the MRO
        refusals = delete_refusals(self.model, [obj.pk for obj in objs])  # type: ignore[attr-defined]  # ModelAdmin's
        setattr(request, REFUSALS, refusals)
        # Django deletes nothing, on either page, while `protected` is not empty.
        return deleted, counts, perms_needed, [*protected, *refusals]

    def render_delete_form(self, request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
        context["refusals"] = getattr(request, REFUSALS, [])
        return super().render_delete_form(request, context)  # type: ignore[misc]  # a mixin: ModelAdmin follows it in the MRO


class MembershipInlineFormSet(BaseInlineFormSet):
    """The tenant page's members: all of one save's deletions and role changes at once."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        removed: set[int] = set()
        changed: dict[int, tuple[int, str]] = {}
        for form in self.forms:
            membership = form.instance
            if membership.pk is None or not hasattr(form, "cleaned_data"):
                continue
            if self.can_delete and self._should_delete_form(form):  # type: ignore[attr-defined]  # Django's, unstubbed
                removed.add(membership.pk)
            elif "role" in form.changed_data:
                changed[membership.pk] = (self.instance.pk, form.cleaned_data["role"])
        problems = orphan_problems(removed=removed, changed=changed, lock=False)
        if problems:
            raise ValidationError(problems)
