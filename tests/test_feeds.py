"""Web pages by URL and RSS/Atom feeds, all served by a local HTTP server the tests run."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from index.feeds import Feed, FeedItem, item_document, load_feed, new_items, read_feed
from index.formats.base import SkipFile
from index.web import Fetched, FetchRules, decode_html, fetch, read_url

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
LIMIT = 64 * 1024
TIMEOUT = 5.0
RULES = FetchRules(LIMIT, TIMEOUT, allow=("127.0.0.1",))  # the test site is on loopback


def _seed_lines(prefix: str) -> list[str]:
    """The non-empty lines of a seed article, whitespace collapsed."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    lines = (" ".join(line.split()) for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


EN_LINES = _seed_lines("001")
EN_TITLE = EN_LINES[0]
EN_BODY = [line for line in EN_LINES[5:] if len(line) > 100]
AR_LINES = _seed_lines("002")
AR_TITLE = AR_LINES[0]
AR_BODY = AR_LINES[1:8]
AR2_LINES = _seed_lines("004")
AR2_TITLE = AR2_LINES[1]
AR2_BODY = [line for line in AR2_LINES if len(line) > 200]
ID_LINES = _seed_lines("000")
ID_TITLE = ID_LINES[2]
ID_BODY = ID_LINES[3:18]
UNDATED_BODY = EN_BODY[2:6]
# trafilatura keeps the article's own headline (its <h1>) as the first line of the main text
EN_TEXT = "\n".join([EN_TITLE, *EN_BODY])
AR_TEXT = "\n".join([AR_TITLE, *AR_BODY])

NAV = "Home World Politics Sport Subscribe"
COMMENT = "Great article, totally agree with every word of it, thanks for writing."
FOOTER = "© 2024 The Daily Test. All rights reserved."


def _paragraphs(lines: list[str]) -> str:
    return "\n".join(f"<p>{escape(line)}</p>" for line in lines)


def en_page() -> str:
    """An English article among navigation, a related box, comments and a footer."""
    nav = "".join(f'<li><a href="/{word.lower()}">{word}</a></li>' for word in NAV.split())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(EN_TITLE)} | The Daily Test</title>
<meta property="og:site_name" content="The Daily Test">
<meta property="article:published_time" content="2024-03-04T08:00:00Z">
</head><body>
<header><nav><ul>{nav}</ul></nav></header>
<main><article><h1>{escape(EN_TITLE)}</h1>
{_paragraphs(EN_BODY)}
</article>
<aside class="related"><h3>Related</h3><ul><li><a href="/x">Another story</a></li></ul></aside>
<section id="comments" class="comments"><h2>3 Comments</h2>
<div class="comment"><p>{COMMENT}</p></div></section>
</main><footer><p>{FOOTER}</p></footer></body></html>"""


def ar_page(title: str, body: list[str], charset: str = "utf-8") -> str:
    """A right-to-left Arabic article page that states no date and no site name."""
    return f"""<!doctype html>
<html lang="ar" dir="rtl"><head><meta charset="{charset}"><title>{escape(title)}</title></head>
<body><nav><a href="/">الرئيسية</a> <a href="/world">العالم</a> <a href="/sport">رياضة</a></nav>
<article><h1>{escape(title)}</h1>
{_paragraphs(body)}
</article>
<div id="comments"><h3>اترك تعليقاً</h3><p>{COMMENT}</p></div>
<footer>جميع الحقوق محفوظة</footer></body></html>"""


def undated_page() -> str:
    """An article page that states no date anywhere."""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Undated</title></head>
<body><article>{_paragraphs(UNDATED_BODY)}</article></body></html>"""


def rss_feed(base: str) -> str:
    """RSS 2.0 whose items carry short summaries and link to pages on the server."""

    def item(path: str, title: str, date: str | None, summary: str) -> str:
        when = f"<pubDate>{date}</pubDate>" if date else ""
        return f"""<item><title>{escape(title)}</title><link>{base}{path}</link>
<guid isPermaLink="false">guid:{path}</guid>{when}
<description>{escape(f"<p>{summary}</p>")}</description></item>"""

    items = [
        item("/articles/en.html", EN_TITLE, "Tue, 05 Mar 2024 10:00:00 GMT", EN_BODY[0][:90]),
        item("/articles/ar.html", AR_TITLE, "Wed, 06 Mar 2024 08:15:00 +0300", AR_BODY[0][:90]),
        item("/articles/undated.html", "Undated story", None, "No date here."),
        item("/old/en.html", "Moved story", None, "This one moved."),
        item("/missing.html", "Gone story", "Thu, 07 Mar 2024 09:00:00 GMT", "Deleted."),
        item("/big.html", "Huge story", "Thu, 07 Mar 2024 10:00:00 GMT", "Too long."),
        # feeds repeat items; the repeat is the same document
        item("/articles/en.html", EN_TITLE, "Tue, 05 Mar 2024 10:00:00 GMT", "Again."),
    ]
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test Wire</title><link>{base}/</link>
<description>Local test feed</description>
{"".join(items)}
</channel></rss>"""


def atom_feed(base: str) -> str:
    """Atom whose entries carry the full article as escaped HTML content."""

    def entry(path: str, title: str, when: str, body: list[str], author: str) -> str:
        content = escape(_paragraphs(body))
        return f"""<entry><title>{escape(title)}</title><link href="{base}{path}"/>
<id>tag:test,2024:{path}</id><updated>{when}</updated><author><name>{author}</name></author>
<summary>{escape(body[0][:80])}</summary><content type="html">{content}</content></entry>"""

    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Test</title>
<link href="{base}/"/><id>tag:test,2024:feed</id><updated>2024-03-06T01:30:00+07:00</updated>
{entry("/atom/ar.html", AR2_TITLE, "2024-03-06T01:30:00+07:00", AR2_BODY, "مراسل")}
{entry("/atom/id.html", ID_TITLE, "2024-03-08T12:00:00Z", ID_BODY, "Redaksi")}
</feed>"""


@dataclass
class Site:
    """The local server: its base URL, routes, and what it was asked."""

    base: str
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    agents: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.hits[self.path] += 1
            site.agents.append(self.headers.get("User-Agent", ""))
            site.hosts.append(self.headers.get("Host", ""))
            if self.path == "/endless.html":
                self._endless()
                return
            status, headers, body = site.routes.get(self.path, (404, {}, b"not here"))
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _endless(self) -> None:
            """HTML without a Content-Length that would never end (capped at 16 MB)."""
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"filler " * 1000 + b"</p>\n"
            try:
                for _ in range(16 * 2**20 // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass  # the client stopped reading, as it should

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    info = Site(base=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(info)
    html = {"Content-Type": "text/html; charset=utf-8"}
    xml = {"Content-Type": "application/rss+xml"}
    atom = {"Content-Type": "application/atom+xml"}
    info.routes.update(
        {
            "/rss.xml": (200, xml, rss_feed(info.base).encode()),
            "/atom.xml": (200, atom, atom_feed(info.base).encode()),
            "/broken.xml": (200, xml, b"<rss version='2.0'><channel><title>Broken</ti"),
            "/page-as-feed.html": (200, html, en_page().encode()),
            "/articles/en.html": (200, html, en_page().encode()),
            "/articles/ar.html": (200, html, ar_page(AR_TITLE, AR_BODY).encode()),
            "/articles/undated.html": (200, html, undated_page().encode()),
            "/articles/cp1256.html": (
                200,
                {"Content-Type": "text/html; charset=windows-1256"},
                ar_page(AR_TITLE, AR_BODY, charset="windows-1256").encode("cp1256"),
            ),
            "/old/en.html": (301, {"Location": "/articles/en.html"}, b""),
            "/loop.html": (302, {"Location": "/loop.html"}, b""),
            "/to-internal.html": (  # another loopback address, not the one allowed
                302,
                {"Location": f"http://127.0.0.2:{server.server_address[1]}/articles/en.html"},
                b"",
            ),
            "/big.html": (200, html, b"<p>" + b"x" * (2 * LIMIT) + b"</p>"),
            "/doc.pdf": (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n%%EOF\n"),
        }
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield info
    server.shutdown()
    server.server_close()
    thread.join()


def _by_title(feed: Feed) -> dict[str | None, FeedItem]:
    """The feed's items by title (the first of repeated ones)."""
    items: dict[str | None, FeedItem] = {}
    for item in feed.items:
        items.setdefault(item.title, item)
    return items


def _skip_reason(call, *args) -> str:
    with pytest.raises(SkipFile) as caught:
        call(*args)
    return caught.value.reason


# --- feeds -------------------------------------------------------------------------------------


def test_rss_items_carry_links_titles_and_the_feeds_dates(site):
    feed = load_feed(site.url("/rss.xml"), RULES)
    assert (feed.title, feed.link) == ("Test Wire", site.url("/"))
    assert [item.key for item in feed.items][:3] == [
        site.url("/articles/en.html"),
        site.url("/articles/ar.html"),
        site.url("/articles/undated.html"),
    ]
    items = _by_title(feed)
    en = items[EN_TITLE]
    assert en.link == en.key == site.url("/articles/en.html")
    assert en.published == "2024-03-05"
    assert en.content_html is None
    assert en.summary_html == f"<p>{EN_BODY[0][:90]}</p>"
    assert items[AR_TITLE].published == "2024-03-06"
    assert items["Undated story"].published is None
    assert all(item.author is None for item in feed.items)


def test_rss_item_documents_are_the_articles_not_the_page_around_them(site):
    feed = load_feed(site.url("/rss.xml"), RULES)
    items = _by_title(feed)

    en = item_document(items[EN_TITLE], feed, RULES)
    assert en.text == EN_TEXT
    for boilerplate in (COMMENT, FOOTER, "Subscribe", "Another story"):
        assert boilerplate not in en.text
    assert en.title == EN_TITLE
    assert en.site == "The Daily Test"
    assert en.url == site.url("/articles/en.html")
    assert en.published == "2024-03-05"  # the item's pubDate, over the page's 2024-03-04

    ar = item_document(items[AR_TITLE], feed, RULES)
    assert ar.text == AR_TEXT
    assert COMMENT not in ar.text
    assert "الرئيسية" not in ar.text
    assert ar.title == AR_TITLE
    assert ar.site == "Test Wire"  # the page names no site: the feed's title, not the host
    assert ar.published == "2024-03-06"


def test_item_dates_fall_back_to_the_page_then_to_none(site):
    feed = load_feed(site.url("/rss.xml"), RULES)
    items = _by_title(feed)
    undated = item_document(items["Undated story"], feed, RULES)
    assert undated.text == "\n".join(UNDATED_BODY)
    assert undated.published is None
    moved = item_document(items["Moved story"], feed, RULES)
    assert moved.text == EN_TEXT
    assert moved.title == "Moved story"
    assert moved.url == site.url("/old/en.html")  # the item's link is its identity
    assert moved.published == "2024-03-04"  # article:published_time of the page


def test_items_whose_pages_fail_stand_as_their_summary_or_are_skipped(site):
    feed = load_feed(site.url("/rss.xml"), RULES)
    items = _by_title(feed)
    for title, summary in (("Gone story", "Deleted."), ("Huge story", "Too long.")):
        found = item_document(items[title], feed, RULES)
        assert (found.text, found.summary_only, found.title) == (summary, True, title)
    bare = FeedItem(key="tag:bare", link=site.url("/missing.html"), title="No summary")
    assert _skip_reason(item_document, bare, feed, RULES) == "HTTP 404 Not Found"
    big = FeedItem(key="tag:big", link=site.url("/big.html"), title="No summary")
    assert _skip_reason(item_document, big, feed, RULES) == "larger than 0.0625 MB"


def test_atom_full_content_is_used_without_fetching_the_pages(site):
    feed = load_feed(site.url("/atom.xml"), RULES)
    assert feed.title == "Atom Test"
    ar, indonesian = feed.items
    assert ar.key == ar.link == site.url("/atom/ar.html")
    # stated 2024-03-06T01:30+07:00: the publisher's day, not the UTC one (2024-03-05)
    assert (ar.published, indonesian.published) == ("2024-03-06", "2024-03-08")
    assert (ar.author, indonesian.author) == ("مراسل", "Redaksi")

    doc = item_document(ar, feed, RULES)
    assert doc.text == "\n".join(AR2_BODY)
    assert (doc.title, doc.author, doc.site) == (AR2_TITLE, "مراسل", "Atom Test")
    assert (doc.url, doc.published) == (site.url("/atom/ar.html"), "2024-03-06")
    assert item_document(indonesian, feed, RULES).text == "\n".join(ID_BODY)
    assert site.hits["/atom/ar.html"] == site.hits["/atom/id.html"] == 0


def test_short_content_is_a_teaser_and_the_page_is_read(site):
    feed = Feed(title="Teasers", link=None, items=[])
    teaser = FeedItem(
        key=site.url("/articles/en.html"),
        link=site.url("/articles/en.html"),
        title="Teaser",
        content_html=f"<p>{EN_BODY[0][:150]}</p>",
        summary_html=f"<p>{EN_BODY[0][:150]}</p>",
    )
    assert item_document(teaser, feed, RULES).text == EN_TEXT
    unlinked = FeedItem(key="tag:no-link", content_html=teaser.content_html)
    assert "no link" in _skip_reason(item_document, unlinked, feed, RULES)
    # under 400 characters but far longer than its summary: a short article, used as it is
    brief = FeedItem(
        key="tag:brief",
        content_html=f"<p>{EN_BODY[0]}</p>",
        summary_html=f"<p>{EN_BODY[0][:100]}</p>",
    )
    doc = item_document(brief, feed, RULES)
    assert (doc.text, doc.site, doc.url) == (EN_BODY[0], "Teasers", None)


def test_broken_or_foreign_xml_is_not_a_feed(site):
    reason = _skip_reason(load_feed, site.url("/broken.xml"), RULES)
    assert reason.startswith("not a valid RSS/Atom feed: ")
    assert "not a valid RSS/Atom feed" in _skip_reason(
        load_feed, site.url("/page-as-feed.html"), RULES
    )
    assert "not a valid RSS/Atom feed" in _skip_reason(read_feed, b"<config/>", "x.xml")
    empty = read_feed(b"<rss version='2.0'><channel><title>Quiet</title></channel></rss>", "q")
    assert (empty.title, empty.items) == ("Quiet", [])


def test_a_feed_file_reads_like_its_url(site, tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(site.routes["/rss.xml"][2])
    assert load_feed(str(path), RULES) == load_feed(site.url("/rss.xml"), RULES)
    missing = _skip_reason(load_feed, str(tmp_path / "nope.xml"), RULES)
    assert missing.startswith("unreadable: ")
    path.write_bytes(b"<rss>" + b" " * LIMIT + b"</rss>")
    assert _skip_reason(load_feed, str(path), RULES).startswith("larger than")


def test_relative_links_resolve_against_the_feed_url():
    rss = b"""<rss version="2.0"><channel><title>R</title>
<item><title>A</title><link>/a/1.html</link></item>
<item><title>B</title><guid isPermaLink="false">urn:b</guid></item>
<item><title>Nameless</title></item></channel></rss>"""
    feed = read_feed(rss, "https://news.example/feeds/all.xml")
    assert [(item.key, item.link) for item in feed.items] == [
        ("https://news.example/a/1.html", "https://news.example/a/1.html"),
        ("urn:b", None),
    ]


def test_a_second_run_fetches_only_new_items(site):
    feed = load_feed(site.url("/rss.xml"), RULES)
    first = new_items(feed, set())
    assert len(first) == len(feed.items) - 1  # the repeated item once
    assert len({item.key for item in first}) == len(first)

    pages = ("/articles/en.html", "/articles/ar.html", "/articles/undated.html")
    before = {page: site.hits[page] for page in pages}
    known = {site.url("/articles/en.html"), site.url("/articles/undated.html")}
    fresh = new_items(feed, known)
    assert [item.title for item in fresh] == [
        AR_TITLE,
        "Moved story",
        "Gone story",
        "Huge story",
    ]
    docs = []
    for item in fresh:
        with contextlib.suppress(SkipFile):
            docs.append(item_document(item, feed, RULES))
        known.add(item.key)  # this caller remembers failures too (it could retry them instead)
    assert [doc.title for doc in docs] == [AR_TITLE, "Moved story", "Gone story", "Huge story"]
    assert [doc.summary_only for doc in docs] == [False, False, True, True]
    assert site.hits["/articles/ar.html"] == before["/articles/ar.html"] + 1
    assert site.hits["/articles/undated.html"] == before["/articles/undated.html"]
    # the moved item's page redirects to the English article: one fetch, through the redirect
    assert site.hits["/articles/en.html"] == before["/articles/en.html"] + 1

    after = dict(site.hits)
    assert new_items(load_feed(site.url("/rss.xml"), RULES), known) == []
    assert {page: site.hits[page] for page in pages} == {page: after[page] for page in pages}


# --- pages by URL ------------------------------------------------------------------------------


def test_read_url_follows_redirects_and_names_itself(site):
    page = read_url(site.url("/old/en.html"), RULES)
    assert page.url == site.url("/articles/en.html")
    assert page.text == EN_TEXT
    assert (page.site, page.published) == ("The Daily Test", "2024-03-04")
    assert site.agents and all("Sanad" in agent for agent in site.agents)
    assert _skip_reason(fetch, site.url("/loop.html"), RULES) == "too many redirects"


def test_fetch_refusals(site):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    assert _skip_reason(fetch, closed, RULES).startswith("unreachable: ")
    assert _skip_reason(fetch, site.url("/missing.html"), RULES) == "HTTP 404 Not Found"
    assert _skip_reason(fetch, site.url("/big.html"), RULES) == "larger than 0.0625 MB"
    # no Content-Length: the stream is cut at the limit instead of read to the end
    assert _skip_reason(fetch, site.url("/endless.html"), RULES) == ("larger than 0.0625 MB")
    assert _skip_reason(fetch, "ftp://127.0.0.1/x", RULES) == "not an http(s) URL"
    assert _skip_reason(fetch, "/etc/hosts", RULES) == "not an http(s) URL"
    assert _skip_reason(read_url, site.url("/doc.pdf"), RULES) == (
        "unsupported content type application/pdf"
    )


def test_fetched_carries_the_final_url_type_and_charset(site):
    fetched = fetch(site.url("/articles/cp1256.html"), RULES)
    assert fetched.url == site.url("/articles/cp1256.html")
    assert (fetched.content_type, fetched.encoding) == ("text/html", "windows-1256")
    page = read_url(site.url("/articles/cp1256.html"), RULES)
    assert page.text == AR_TEXT


def test_decode_html_header_then_meta_then_utf8():
    arabic = "<p>" + AR_BODY[0] + "</p>"
    cp1256 = arabic.encode("cp1256")
    # the header wins
    assert decode_html(Fetched("http://x/", "text/html", cp1256, "windows-1256")) == arabic
    # no header charset: the page's own <meta charset>
    meta = f'<html><head><meta charset="windows-1256"></head><body>{arabic}</body></html>'
    assert decode_html(Fetched("http://x/", "text/html", meta.encode("cp1256"))) == meta
    meta_http_equiv = meta.replace(
        '<meta charset="windows-1256">',
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">',
    )
    assert decode_html(Fetched("http://x/", "text/html", meta_http_equiv.encode("cp1256"))) == (
        meta_http_equiv
    )
    # a byte-order mark, then nothing declared: UTF-8, bad bytes replaced
    assert decode_html(Fetched("http://x/", "text/html", b"\xef\xbb\xbf" + arabic.encode())) == (
        arabic
    )
    assert decode_html(Fetched("http://x/", "text/html", b"<p>caf\xe9 ok</p>")) == (
        "<p>caf\ufffd ok</p>"
    )
    # a wrong header charset gives way to the meta declaration
    assert decode_html(Fetched("http://x/", "text/html", meta.encode("cp1256"), "utf-8")) == meta


def test_internal_addresses_are_refused_unless_allowed(site):
    """Issue 22, point 2: loopback, private, link-local (cloud metadata) and redirects to them."""
    public_only = FetchRules(LIMIT, TIMEOUT)
    before = site.hits["/articles/en.html"]
    for url in (
        site.url("/articles/en.html"),
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ):
        assert "internal address" in _skip_reason(fetch, url, public_only), url
    assert site.hits["/articles/en.html"] == before  # refused before any connection
    # allowed by name or by network; a redirect to an address not allowed is refused too
    assert fetch(site.url("/articles/en.html"), RULES).data == en_page().encode()
    by_network = FetchRules(LIMIT, TIMEOUT, allow=("127.0.0.0/31",))
    assert fetch(site.url("/articles/en.html"), by_network).content_type == "text/html"
    hits = site.hits["/articles/en.html"]
    assert "internal address" in _skip_reason(fetch, site.url("/to-internal.html"), RULES)
    assert site.hits["/articles/en.html"] == hits
    assert _skip_reason(read_url, site.url("/old/en.html"), public_only).startswith("refused")


def test_a_name_is_fetched_at_the_address_that_was_checked(site, monkeypatch):
    """DNS rebinding: a name that resolves to an allowed address when checked and to another
    one a moment later is still fetched from the address checked, under its own name."""
    port = int(site.base.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1"])  # the check's lookup; any later lookup gets 127.0.0.2
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "rebind.test":
            return real(host, *args, **kwargs)
        address = next(answers, "127.0.0.2")  # nothing of the test site listens there
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    rules = FetchRules(LIMIT, TIMEOUT, allow=("127.0.0.1/32",))  # allowed by network only
    before = site.hits["/articles/en.html"]
    fetched = fetch(f"http://rebind.test:{port}/articles/en.html", rules)
    assert fetched.data == en_page().encode() and fetched.url.startswith("http://rebind.test")
    assert site.hits["/articles/en.html"] == before + 1
    assert site.hosts[-1] == f"rebind.test:{port}"  # asked for by its name


def test_headings_of_a_full_content_item_are_kept():
    """Issue 25, point 3: the <h4> that opens an item's content, and one between paragraphs."""
    feed = Feed(title="Headed", link=None, items=[])
    body = "".join(f"<p>{p}</p>" for p in EN_BODY)
    item = FeedItem(
        key="tag:headed",
        content_html=(
            f"<h4>Street warfare training</h4>{body}<h4>What comes next</h4><p>{EN_BODY[0]}</p>"
        ),
    )
    lines = item_document(item, feed, RULES).text.split("\n")
    assert lines[0] == "Street warfare training" and "What comes next" in lines
    assert lines[1:3] == list(EN_BODY[:2])
