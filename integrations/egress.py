"""The one egress policy for every outbound request (vendor APIs, logins, tests, webhooks).

A base URL is typed by a tenant manager, so without a policy it can aim Switchboard at
itself, its database, the cloud metadata service or anything else on the private network.
The policy:

- only `http` and `https`, and never credentials in the URL (`user:pass@host`);
- the host is resolved once per connection and the socket is connected to that vetted
  address (no second lookup, so a name cannot rebind between check and connect); TLS
  still verifies the certificate and SNI of the original host name;
- every address the name resolves to must be public: loopback, private, link-local,
  multicast, reserved, unspecified, shared (CGNAT) and documentation ranges are refused,
  also when wrapped in IPv4-mapped, 6to4 or NAT64 IPv6 forms, unless the address is in
  `settings.VENDOR_EGRESS_ALLOW` (CIDRs); loopback is allowed when `DEBUG` is on, for the
  bundled sandbox;
- a redirect to another origin is never followed (it would carry the request's
  credentials there); same-origin redirects are followed, at most `MAX_REDIRECTS`, each
  connection vetted like the first;
- no proxies and nothing from the environment (`.netrc` credentials, `HTTPS_PROXY`).

`check_url()` is the save-time check; `egress_session()` enforces the policy on every
request at the urllib3 connection level, below `requests.HTTPAdapter.send` (which the
`responses` test library replaces, so faked responses never touch the network).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_REDIRECTS = 5
SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

# Ranges that are never a vendor's public API, with the word used in error messages.
# Listed explicitly rather than trusting `ipaddress.is_global` alone: its answers differ
# between Python versions (3.11 calls fec0::/10 and 192.0.0.0/24 global).
_REFUSED: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/8", "reserved"),
    ("64:ff9b:1::/48", "private"),
    ("100::/64", "reserved"),
    ("2001::/23", "reserved"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "private"),
    ("ff00::/8", "multicast"),
)
_REFUSED_NETWORKS = tuple((ipaddress.ip_network(cidr), kind) for cidr, kind in _REFUSED)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))


class EgressError(Exception):
    """The egress policy refused a URL or a request. The message names the host, never an answer."""


class UnresolvedHost(EgressError):
    """The host name does not resolve now, so its addresses could not be vetted."""


# --- the policy ---------------------------------------------------------------------------
def parse_allow_list(values: list[str] | tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """CIDRs of VENDOR_EGRESS_ALLOW; raises ValueError naming the first bad entry."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip()))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a network in CIDR form, e.g. 10.20.0.0/16 ({exc})") from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _allowed(values: tuple[str, ...], debug: bool) -> tuple[IPNetwork, ...]:
    return parse_allow_list(values) + (_LOOPBACK if debug else ())


def allowed_networks() -> tuple[IPNetwork, ...]:
    """The allow-list in force now (read per request, so settings overrides apply at once)."""
    return _allowed(tuple(getattr(settings, "VENDOR_EGRESS_ALLOW", ())), bool(settings.DEBUG))


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, 6to4, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(address: str) -> str | None:
    """Why the policy refuses to connect to `address` ("loopback", …), or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    embedded = _embedded_ipv4(ip)
    allow = allowed_networks()
    if any(ip in net for net in allow) or (embedded is not None and any(embedded in net for net in allow)):
        return None
    if embedded is not None:
        inner = refusal_of_public(embedded)
        return f"{inner}, in an IPv6 wrapper" if inner else None
    return refusal_of_public(ip)


def refusal_of_public(ip: IPAddress) -> str | None:
    for network, kind in _REFUSED_NETWORKS:
        if ip.version == network.version and ip in network:
            return kind
    if ip.is_multicast:
        return "multicast"
    if not ip.is_global:
        return "not public"
    return None


# --- resolving and vetting -----------------------------------------------------------------
def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order (raises socket.gaierror).

    The one DNS lookup of a request; tests replace it to map names without a network.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def vetted_addresses(host: str, port: int) -> list[str]:
    """Resolve `host` once and vet every address; the addresses to connect to.

    Raises EgressError if any address is refused (a name that also points inward is not a
    vendor's), socket.gaierror if the name does not resolve.
    """
    host = host.strip("[]").rstrip(".")
    addresses = resolve(host, port)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    for address in addresses:
        reason = refusal(address)
        if reason is None:
            continue
        # A literal address is the user's own text; a name's internal address is not shown.
        verb = "is" if _is_literal(host) else "resolves to"
        raise EgressError(
            f"{host} {verb} an address the egress policy refuses ({reason}); "
            "an operator can allow it with VENDOR_EGRESS_ALLOW"
        )
    return addresses


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, with the scheme's default port left out."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _host_and_port(url: str) -> tuple[str, int]:
    """The URL's host and port after the scheme and userinfo checks (raises EgressError)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = scheme or "none"
        raise EgressError(f"{parts.hostname or url[:60]!r}: scheme {shown!r} refused (use http or https)")
    if "@" in parts.netloc:
        # Never echo the userinfo: it is a password.
        raise EgressError(f"{parts.hostname}: credentials in the URL (user:password@) are refused")
    if not parts.hostname:
        raise EgressError("the URL has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise EgressError(f"{parts.hostname}: the port is not a number from 1 to 65535") from None
    return parts.hostname, port


def check_url(url: str) -> None:
    """Save-time check of a URL: scheme, no userinfo, and every address of its host vetted.

    Raises EgressError (UnresolvedHost when the name does not resolve now) with a message
    naming the host.
    """
    host, port = _host_and_port(url)
    try:
        vetted_addresses(host, port)
    except socket.gaierror:
        raise UnresolvedHost(f"{host} does not resolve to any address") from None
    except UnicodeError:
        raise EgressError(f"{host!r} is not a valid host name") from None


# --- the connection level -------------------------------------------------------------------
class _VettedConnectionMixin:
    """Connects to the address vetted by the one lookup, not to whatever a second lookup says.

    urllib3 connects in `_new_conn()` to `(self._dns_host, self.port)` with its own
    `create_connection`, which resolves the name again. Here the name is resolved and vetted
    once, and `create_connection` is handed the literal address. `self.host` is untouched,
    so `HTTPSConnection.connect()` still sends SNI and verifies the certificate for the
    name in the URL.
    """

    _dns_host: str
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        try:
            addresses = vetted_addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]  # self: the HTTPConnection it mixes into
        error: Exception | None = None
        for address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                error = ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                )
                error.__cause__ = exc
                continue
            except OSError as exc:
                error = NewConnectionError(self, f"Failed to establish a new connection: {exc}")  # type: ignore[arg-type]  # self: an HTTPConnection
                error.__cause__ = exc
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        assert error is not None
        raise error


class VettedHTTPConnection(_VettedConnectionMixin, HTTPConnection):
    pass


class VettedHTTPSConnection(_VettedConnectionMixin, HTTPSConnection):
    pass


class _VettedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = VettedHTTPConnection


class _VettedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = VettedHTTPSConnection


class EgressAdapter(HTTPAdapter):
    """requests' adapter with pools whose connections vet their address."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _VettedHTTPConnectionPool,
            "https": _VettedHTTPSConnectionPool,
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # Through a proxy the socket goes to the proxy, so the vetting would vet the wrong host.
        raise EgressError("outbound requests never go through a proxy")


class _ProcessAdapter(EgressAdapter):
    """The adapter the vendor clients of one process share, so a poll every 10 s reuses a
    kept-alive connection instead of opening one (a TCP handshake, on HTTPS a TLS one, and the
    address vetting) every time. Only sockets are shared: credentials, cookies and headers
    live on each client's own session. Closing a session leaves it open (it lives as long
    as the process)."""

    def close(self) -> None:
        pass


# Vendors are few hosts; a per-tenant host name (NCC) gets a pool of its own.
_POOL_HOSTS = 64
_POOL_SIZE = 16  # connections kept per host: a worker's threads at once
_process_adapter: tuple[int, EgressAdapter] | None = None
_adapter_lock = threading.Lock()


def _shared_adapter() -> EgressAdapter:
    """This process's adapter (a forked child, e.g. a prefork pool's, makes its own)."""
    global _process_adapter
    with _adapter_lock:
        if _process_adapter is None or _process_adapter[0] != os.getpid():
            adapter = _ProcessAdapter(pool_connections=_POOL_HOSTS, pool_maxsize=_POOL_SIZE)
            _process_adapter = (os.getpid(), adapter)
        return _process_adapter[1]


class EgressSession(requests.Session):
    """A requests session that enforces the egress policy; see the module docstring.

    `pooled` sessions share this process's connections (vendor clients, one per run);
    the others keep their own (webhooks, connection tests).
    """

    def __init__(self, *, pooled: bool = False) -> None:
        super().__init__()
        # No proxies and no .netrc credentials picked up from the environment.
        self.trust_env = False
        self.max_redirects = MAX_REDIRECTS
        adapter = _shared_adapter() if pooled else EgressAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # Every hop: requests would turn user:pass@ into an Authorization header.
        _host_and_port(request.url or "")
        return super().send(request, **kwargs)

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        absolute = urljoin(resp.url, target)
        if origin(absolute) != origin(resp.url):
            # Following would resend the request's credentials (headers, a form body on
            # 307/308) to a host nobody vetted for them.
            raise EgressError(
                f"{origin(resp.url)} redirected to another origin, {origin(absolute)}; "
                "redirects to another origin are not followed"
            )
        return target


def egress_session(*, pooled: bool = False) -> requests.Session:
    """A new session for outbound requests under the egress policy (`pooled`: on this
    process's kept-alive connections)."""
    return EgressSession(pooled=pooled)
