"""Reading by URL: a bounded HTTP(S) download, its decoding, and the page's main text."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from bs4.dammit import EncodingDetector

from index.formats.base import Extracted, SkipFile
from index.formats.html import extract_html

USER_AGENT = "Sanad/0.1 (multilingual news QA indexer)"
_MAX_REDIRECTS = 5
_REASON_CHARS = 80
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


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


def fetch(
    url: str, max_bytes: int, timeout_s: float = 20.0, client: httpx.Client | None = None
) -> Fetched:
    """Download `url` (redirects followed) into memory, refusing bodies over `max_bytes`."""
    if not is_http_url(url):
        raise SkipFile("not an http(s) URL")
    if client is not None:
        return _download(client, url, max_bytes, timeout_s)
    with httpx.Client(max_redirects=_MAX_REDIRECTS) as own:
        return _download(own, url, max_bytes, timeout_s)


def _download(client: httpx.Client, url: str, max_bytes: int, timeout_s: float) -> Fetched:
    """One GET through `client`, the body streamed up to the limit."""
    try:
        with client.stream(
            "GET",
            url,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
            timeout=timeout_s,
        ) as response:
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
                url=str(response.url),
                content_type=media_type.strip().lower(),
                data=bytes(body),
                encoding=response.charset_encoding,
            )
    except httpx.TooManyRedirects as exc:
        raise SkipFile("too many redirects") from exc
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


def read_url(url: str, max_bytes: int, timeout_s: float) -> Extracted:
    """The main text and metadata of the web page at `url` (HTML only)."""
    fetched = fetch(url, max_bytes, timeout_s)
    if fetched.content_type not in _HTML_TYPES:
        raise SkipFile(f"unsupported content type {fetched.content_type or '(none)'}")
    return extract_html(decode_html(fetched), url=fetched.url)
