"""The save-time egress check: which URLs a connection (or a webhook) may be aimed at."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.egress import EgressError, UnresolvedHost, check_url, parse_allow_list

REFUSED = [
    ("http://127.0.0.1:8765/tcn/", "127.0.0.1", "loopback"),
    ("http://localhost/", "localhost", "loopback"),
    ("http://[::1]:8080/", "::1", "loopback"),
    ("http://0.0.0.0/", "0.0.0.0", "unspecified"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "link-local"),
    ("http://10.1.2.3/", "10.1.2.3", "private"),
    ("https://192.168.1.10/", "192.168.1.10", "private"),
    ("https://172.20.0.5/", "172.20.0.5", "private"),
    ("http://100.64.0.1/", "100.64.0.1", "shared"),
    ("http://224.0.0.1/", "224.0.0.1", "multicast"),
    ("http://240.0.0.1/", "240.0.0.1", "reserved"),
    ("http://[fe80::1]/", "fe80::1", "link-local"),
    ("http://[fd00::1]/", "fd00::1", "private"),
    ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", "loopback"),
    ("http://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254", "link-local"),
    ("http://[2002:7f00:1::]/", "2002:7f00:1::", "loopback"),
    ("http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe", "link-local"),
    # The resolver reads decimal and octal forms of 127.0.0.1; so does the policy.
    ("http://2130706433/", "2130706433", "loopback"),
    ("http://0177.0.0.1/", "0177.0.0.1", "loopback"),
]


@pytest.mark.parametrize(("url", "host", "kind"), REFUSED)
def test_it_refuses_inward_addresses_naming_the_host(url, host, kind):
    with pytest.raises(EgressError) as refused:
        check_url(url)
    assert host in str(refused.value)
    assert kind in str(refused.value)


def test_it_refuses_a_dns_name_that_resolves_to_loopback(fake_dns):
    fake_dns.names["rebind.example"] = ["127.0.0.1"]
    with pytest.raises(EgressError, match=r"rebind\.example resolves to .*\(loopback\)"):
        check_url("https://rebind.example/backoffice/")


def test_it_refuses_a_name_when_any_of_its_addresses_is_inward(fake_dns):
    fake_dns.names["mixed.example"] = ["93.184.215.14", "10.0.0.7"]
    with pytest.raises(EgressError, match=r"mixed\.example .*\(private\)") as refused:
        check_url("https://mixed.example/")
    # A name's internal address is not shown to whoever typed the name.
    assert "10.0.0.7" not in str(refused.value)


def test_it_refuses_credentials_in_the_url_without_repeating_them():
    with pytest.raises(EgressError, match="credentials in the URL") as refused:
        check_url("http://user:s3cret-pass@127.0.0.1/")
    assert "s3cret-pass" not in str(refused.value)
    with pytest.raises(EgressError, match="credentials in the URL"):
        check_url("https://user:s3cret-pass@api.tcn3.com/")


@pytest.mark.parametrize("url", ["ftp://api.tcn3.com/", "file:///etc/passwd", "gopher://x.example/"])
def test_it_refuses_other_schemes(url):
    with pytest.raises(EgressError, match="refused"):
        check_url(url)


def test_it_accepts_a_public_address_and_a_name_that_resolves_to_one(fake_dns):
    fake_dns.names["api.vendor.example"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    check_url("https://93.184.215.14/")
    check_url("https://api.vendor.example/backoffice/")


def test_a_name_that_does_not_resolve_is_reported_as_unresolved():
    with pytest.raises(UnresolvedHost, match=r"nowhere\.invalid does not resolve"):
        check_url("https://nowhere.invalid/")


def test_the_allow_list_lets_the_sandbox_through(settings, fake_dns):
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32", "10.20.0.0/16"]
    fake_dns.names["sandbox.internal"] = ["10.20.3.4"]
    check_url("http://127.0.0.1:8765/tcn/")
    check_url("http://[::ffff:127.0.0.1]:8765/tcn/")
    check_url("http://sandbox.internal/")
    # Only what is listed: another loopback address and another private range stay refused.
    with pytest.raises(EgressError):
        check_url("http://127.0.0.2/")
    with pytest.raises(EgressError):
        check_url("http://10.21.0.1/")


def test_debug_allows_loopback_only(settings):
    settings.VENDOR_EGRESS_ALLOW = []
    settings.DEBUG = True
    check_url("http://127.0.0.1:8765/")
    check_url("http://[::1]:8765/")
    with pytest.raises(EgressError):
        check_url("http://169.254.169.254/")


def test_loopback_is_refused_by_default(settings):
    settings.VENDOR_EGRESS_ALLOW = []
    settings.DEBUG = False
    with pytest.raises(EgressError, match="loopback"):
        check_url("http://127.0.0.1:8765/")


def test_the_allow_list_refuses_what_is_not_a_cidr():
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300/8' is not a network"):
        parse_allow_list(["10.0.0.0/8", "10.0.0.300/8"])


def test_the_site_refuses_to_start_with_a_bad_allow_list():
    # The system checks (wfm_site/checks.py) refuse it at every process start, by name.
    env = {**os.environ, "VENDOR_EGRESS_ALLOW": "10.0.0.0/8,intranet", "DEBUG": "true"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "DJANGO_SETTINGS_MODULE": "wfm_site.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "VENDOR_EGRESS_ALLOW = ['10.0.0.0/8', 'intranet'] is not a list of networks" in result.stderr
    assert "'intranet' is not a network in CIDR form" in result.stderr
