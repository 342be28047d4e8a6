"""Group and role addresses are told apart from a person's, with a tenant's exceptions."""

from __future__ import annotations

import pytest

from notifications.models import is_role_address


@pytest.mark.parametrize(
    "address",
    [
        "helpdesk@acme.example",
        "cc-ops@acme.example",
        "Support@acme.example",
        "it-support@x.org",
        "noreply+alerts@x.org",
        "admin@x.org",
        "info@x.org",
        "service.desk@x.org",
    ],
)
def test_group_and_role_addresses_are_recognised_also_by_one_of_their_words(address):
    assert is_role_address(address)


@pytest.mark.parametrize("address", ["jane.doe@acme.example", "jdoe@x.org", "maria_lopez@x.org"])
def test_a_persons_address_is_not_a_role_address(address):
    assert not is_role_address(address)


def test_a_tenants_exception_allows_a_whole_address_or_a_local_part_at_any_domain():
    assert not is_role_address("cc-ops@acme.example", allowed=["CC-Ops@acme.example"])
    assert is_role_address("cc-ops@other.example", allowed=["cc-ops@acme.example"])
    assert not is_role_address("helpdesk@anything.example", allowed=["helpdesk"])
    assert is_role_address("support@acme.example", allowed=["helpdesk"])
