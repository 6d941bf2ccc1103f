"""Reading by URL: a bounded HTTP(S) download, its decoding, and the page's main text.

A URL names a host that anyone may choose, so before every request (the first and each
redirect) the host is resolved and refused when any of its addresses is not public: loopback,
private, link-local (cloud metadata at 169.254.169.254), multicast, reserved. Intranet feeds
are allowed by name or network in `FetchRules.allow` (SANAD_FETCH_ALLOW).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from bs4.dammit import EncodingDetector

from index.formats.base import Extracted, SkipFile
from index.formats.html import extract_html

USER_AGENT = "Sanad/0.1 (multilingual news QA indexer)"
_MAX_REDIRECTS = 5
_REASON_CHARS = 80
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass(frozen=True)
class FetchRules:
    """How far a download may reach: its size, its time, and the internal hosts it may fetch."""

    max_bytes: int
    timeout_s: float = 20.0
    allow: tuple[str, ...] = ()  # host names or networks (CIDR) that may be internal

    def check(self, url: str) -> str | None:
        """SkipFile unless every address of the URL's host is public or allowed; the address
        checked, to connect to (None for a host allowed by name: it is not pinned)."""
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        if not host:
            raise SkipFile("the URL names no host")
        if host in self.allow:
            return None
        networks = [ipaddress.ip_network(a, strict=False) for a in self.allow if _is_network(a)]
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise SkipFile(f"unreachable: cannot resolve {host}") from exc
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            if any(address in network for network in networks):
                continue
            if not address.is_global or address.is_multicast:
                raise SkipFile(
                    f"refused: {host} is an internal address (allow it with SANAD_FETCH_ALLOW)"
                )
        return str(ipaddress.ip_address(str(infos[0][4][0]).split("%")[0]))


def _is_network(value: str) -> bool:
    """Whether an allow entry is an address or network (else it is a host name)."""
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Fetched:
    """A downloaded body: the final URL (after redirects), its media type and charset hint."""

    url: str
    content_type: str
    data: bytes
    encoding: str | None = None


def too_large(max_bytes: int) -> SkipFile:
    """The refusal for an input over the size limit."""
    return SkipFile(f"larger than {max_bytes / 2**20:.3g} MB")


def is_http_url(location: str) -> bool:
    """Whether `location` is an http or https URL."""
    return urlsplit(location).scheme.lower() in ("http", "https")


def fetch(url: str, rules: FetchRules, client: httpx.Client | None = None) -> Fetched:
    """Download `url` into memory (redirects followed, each one checked), up to the limit."""
    if not is_http_url(url):
        raise SkipFile("not an http(s) URL")
    if client is not None:
        return _follow(client, url, rules)
    with httpx.Client() as own:
        return _follow(own, url, rules)


def _follow(client: httpx.Client, url: str, rules: FetchRules) -> Fetched:
    """GET `url`, following at most _MAX_REDIRECTS redirects, each target checked first."""
    for _ in range(_MAX_REDIRECTS + 1):
        if not is_http_url(url):
            raise SkipFile("redirected to a URL that is not http(s)")
        fetched = _download(client, url, rules, rules.check(url))
        if isinstance(fetched, Fetched):
            return fetched
        url = fetched
    raise SkipFile("too many redirects")


def pinned(url: str, address: str | None) -> tuple[str, dict[str, str], dict[str, str]]:
    """The request that reaches `address` for `url`: the URL with the address as its host,
    the Host header and the TLS server name of the original host (no second DNS lookup, so
    a name cannot resolve to a checked address first and to an internal one next)."""
    headers = {"User-Agent": USER_AGENT}
    parts = urlsplit(url)
    if address is None or parts.hostname is None:
        return url, headers, {}
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=netloc)), headers, {"sni_hostname": parts.hostname}


def _download(
    client: httpx.Client, url: str, rules: FetchRules, address: str | None
) -> Fetched | str:
    """One GET through `client` to the checked address: the body streamed up to the limit,
    or where it redirects."""
    max_bytes = rules.max_bytes
    target, headers, extensions = pinned(url, address)
    try:
        with client.stream(
            "GET",
            target,
            headers=headers,
            extensions=extensions,
            follow_redirects=False,
            timeout=rules.timeout_s,
        ) as response:
            if response.is_redirect:
                return urljoin(url, response.headers["location"])
            if response.status_code >= 400:
                raise SkipFile(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_large(max_bytes)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise too_large(max_bytes)
            media_type = response.headers.get("content-type", "").split(";")[0]
            return Fetched(
                url=url,
                content_type=media_type.strip().lower(),
                data=bytes(body),
                encoding=response.charset_encoding,
            )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise SkipFile(f"unreachable: {_short_reason(exc)}") from exc


def _short_reason(exc: Exception) -> str:
    """A few words on why a request failed."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return (str(exc) or type(exc).__name__)[:_REASON_CHARS]


def decode_html(fetched: Fetched) -> str:
    """The page as text: byte-order mark, then header charset, then <meta charset>, else UTF-8."""
    data, bom_encoding = EncodingDetector.strip_byte_order_mark(fetched.data)
    declared = EncodingDetector.find_declared_encoding(data, is_html=True)
    for encoding in (bom_encoding, fetched.encoding, declared):
        if encoding:
            try:
                return data.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    return data.decode("utf-8", errors="replace")


def read_url(url: str, rules: FetchRules) -> Extracted:
    """The main text and metadata of the web page at `url` (HTML only)."""
    fetched = fetch(url, rules)
    if fetched.content_type not in _HTML_TYPES:
        raise SkipFile(f"unsupported content type {fetched.content_type or '(none)'}")
    return extract_html(decode_html(fetched), url=fetched.url)
