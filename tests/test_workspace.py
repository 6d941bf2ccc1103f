"""The research workspace on real answers: history (titles, search, paging, rename, delete,
restart, migration), exports (JSON, Markdown with direction marks, escaping) and feedback."""

from __future__ import annotations

import json
import sqlite3
import time
import unicodedata
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from assistant.citations import Answer, lookup
from assistant.conversation import TITLE_CHARS, ConversationNotFound, ConversationStore
from assistant.engine import Engine
from assistant.export import (
    LRM,
    RLM,
    ConversationExport,
    conversation_export,
    directed,
    to_markdown,
)
from assistant.feedback import COMMENT_CHARS, FeedbackRecord, TurnNotFound
from index.embedding import Embedder
from tests.conftest import make_engine
from tests.test_api import ASK

UNTITLED = "Untitled conversation"


def private_engine(tmp: Path, embedder: Embedder, seed_engine: Engine, **overrides) -> Engine:
    """An engine with its own data directory (conversations, feedback) that answers from the
    session's read-only seed index, so the module does not ingest the seeds once more."""
    engine = make_engine(tmp, embedder, **overrides)
    engine.store = seed_engine.store
    return engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder, seed_engine) -> Engine:
    return private_engine(tmp_path_factory.mktemp("workspace"), embedder, seed_engine)


@pytest.fixture(scope="module")
def asked(engine) -> dict[str, Answer]:
    """One grounded answer per language, each in a conversation of its own; the English
    conversation has a follow-up ("en+")."""
    answers = {lang: engine.ask(question) for lang, question in ASK.items()}
    for lang, answer in answers.items():
        assert answer.grounded and answer.citations and answer.turn == 0, (lang, answer)
    answers["en+"] = engine.ask("Who coordinated it?", answers["en"].conversation_id)
    assert answers["en+"].conversation_id == answers["en"].conversation_id
    assert answers["en+"].turn == 1
    return answers


def add_conversation(
    store: ConversationStore, question: str, answer: Answer, settings: dict | None = None
) -> str:
    """A new conversation holding a copy of a real answer (a little later than the last)."""
    time.sleep(0.002)  # distinct `updated` times, so "newest first" is well defined
    cid = store.create()
    store.add_turn(cid, question, question, answer.model_copy(deep=True), settings)
    return cid


def ids(page) -> list[str]:
    return [s.conversation_id for s in page]


def found(store: ConversationStore, query: str) -> set[str]:
    total, page = store.summaries(query, 0, 500)
    assert total == len(page)
    return set(ids(page))


# --- history ------------------------------------------------------------------------------------
def test_history_is_newest_active_first_and_titled_by_the_first_question(tmp_path, asked):
    store = ConversationStore(tmp_path / "c.sqlite3")
    older = add_conversation(store, ASK["en"], asked["en"])
    newer = add_conversation(store, ASK["ar"], asked["ar"])
    store.create()  # a conversation without an answer is not history
    total, page = store.summaries()
    assert total == 2 and ids(page) == [newer, older]

    time.sleep(0.002)
    store.add_turn(older, "Who coordinated it?", "x", asked["en+"].model_copy(deep=True))
    total, page = store.summaries()
    assert total == 2 and ids(page) == [older, newer]  # a new answer makes it the newest
    assert [(s.title, s.turns) for s in page] == [(ASK["en"], 2), (ASK["ar"], 1)]
    assert page[0].updated > page[0].created and page[0].updated > page[1].updated


def test_titles_are_one_clean_line_cut_at_the_limit(tmp_path, asked):
    store = ConversationStore(tmp_path / "c.sqlite3")
    messy = add_conversation(store, "  Who\ttrained\x00 the\r\nmilitias?\x1b\u2028 ", asked["en"])
    long = add_conversation(store, "street warfare " * 20, asked["en"])
    assert store.summary(messy).title == "Who trained the militias?"
    title = store.summary(long).title
    assert len(title) == TITLE_CHARS and title.endswith("…")
    assert title[:-1] == ("street warfare " * 20)[: TITLE_CHARS - 1]


def test_a_question_of_control_characters_is_an_untitled_conversation(engine):
    answer = engine.ask("\x01\x02\x03\x7f")  # not blank to validate_question, empty as a title
    cid = answer.conversation_id
    summary = engine.conversations.summary(cid)
    assert summary.title == UNTITLED and summary.turns == 1
    assert cid in found(engine.conversations, "")
    assert conversation_export(engine.conversations, cid).title == UNTITLED
    renamed = engine.conversations.rename(cid, "Control characters")
    assert renamed.title == "Control characters"


def test_search_reads_titles_questions_and_answers_folding_arabic(tmp_path, asked):
    store = ConversationStore(tmp_path / "c.sqlite3")
    cid = {lang: add_conversation(store, ASK[lang], asked[lang]) for lang in ("en", "ar", "id")}
    # the question says درّب (with shadda); harakat and letter variants do not matter
    assert found(store, "درب") == {cid["ar"]}
    assert found(store, "دَرَّبَ ميليشيات") == {cid["ar"]}
    assert "إلى أن التدريب" in asked["ar"].text  # only in the answer, with alef variants
    for variant in ("الى ان التدريب", "إلي أن التدريب", "الي ان التدريب"):
        assert found(store, variant) == {cid["ar"]}, variant
    assert found(store, "  HAFTAR'S MILITIAS  ") == {cid["en"]}  # case and blanks
    # answer text only: a line the English answer quotes, in no question
    assert "Arabic-language service" in asked["en"].text
    assert "arabic-language service" not in "".join(ASK.values()).lower()
    quoting = {cid[lang] for lang in cid if "Arabic-language service" in asked[lang].text}
    assert cid["en"] in quoting
    assert found(store, "arabic-language SERVICE") == quoting
    assert found(store, "voa-islam.com") == {cid["id"]}
    assert found(store, "no such words anywhere") == set()
    assert store.summaries("no such words anywhere") == (0, [])
    assert found(store, "   ") == set(cid.values())  # a blank query lists everything


def test_paging_keeps_the_total_and_the_order(tmp_path, asked):
    store = ConversationStore(tmp_path / "c.sqlite3")
    made = [add_conversation(store, f"Paging question {i}", asked["id"]) for i in range(5)]
    newest_first = made[::-1]
    pages = [store.summaries(offset=o, limit=2) for o in (0, 2, 4, 6)]
    assert [total for total, _ in pages] == [5, 5, 5, 5]
    assert [ids(page) for _, page in pages] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:5],
        [],
    ]
    total, page = store.summaries("paging question 3", 0, 10)
    assert total == 1 and ids(page) == [made[3]]
    total, page = store.summaries("Paging", 1, 3)
    assert total == 5 and ids(page) == newest_first[1:4]


def test_rename_keeps_the_order_and_rejects_empty_titles(tmp_path, asked):
    store = ConversationStore(tmp_path / "c.sqlite3")
    older = add_conversation(store, ASK["en"], asked["en"])
    newer = add_conversation(store, ASK["id"], asked["id"])
    before = store.summary(older)
    time.sleep(0.002)
    renamed = store.rename(older, "  Israeli\ttraining\n of militias ")
    assert renamed.title == "Israeli training of militias"
    assert renamed.updated == before.updated and renamed.created == before.created
    assert ids(store.summaries()[1]) == [newer, older]  # renaming is not activity
    assert found(store, "israeli training") == {older}  # the new title is searched
    assert found(store, ASK["en"]) == {older}  # and so is still the first question
    assert len(store.rename(older, "x" * 500).title) == TITLE_CHARS
    for empty in ("", "   ", "\x00\t\n", "\u2028"):
        with pytest.raises(ValueError, match="empty"):
            store.rename(older, empty)
    assert store.summary(older).title == "x" * (TITLE_CHARS - 1) + "…"
    with pytest.raises(ConversationNotFound):
        store.rename("no-such-conversation", "A title")


def test_delete_takes_turns_and_feedback_and_stays_deleted_after_a_restart(engine, asked, embedder):
    store = engine.conversations
    settings = engine.answer_settings(None)
    secret = "Zebra crossing question about Haftar training"
    gone = add_conversation(store, secret, asked["ar"], settings)
    kept = add_conversation(store, "A conversation that stays", asked["en"], settings)
    for cid in (gone, kept):
        engine.feedback.add(cid, 0, "up")
        engine.feedback.add(cid, 0, "down", asked["ar" if cid == gone else "en"].citations[0].id)
    assert len(engine.feedback.records(gone)) == 2

    deleted = store.delete(gone)
    assert deleted.conversation_id == gone and deleted.title == secret and deleted.turns == 1
    assert gone not in found(store, "") and kept in found(store, "")
    assert store.turns(gone) == [] and not store.exists(gone)
    assert engine.feedback.records(gone) == []
    assert all(r.conversation_id != gone for r in engine.feedback.records())
    assert len(engine.feedback.records(kept)) == 2
    with store.reading() as db:
        assert db.execute(
            "SELECT COUNT(*) FROM feedback WHERE conversation_id = ?", (gone,)
        ).fetchone() == (0,)
    # the deleted text is not left in the database's files (pages or write-ahead log)
    data = engine.settings.data_dir
    for path in data.glob("conversations.sqlite3*"):
        assert secret.encode() not in path.read_bytes(), path.name
    with pytest.raises(ConversationNotFound):
        store.delete(gone)
    with pytest.raises(KeyError, match="unknown conversation"):
        engine.ask("And who paid for it?", gone)

    restarted = Engine(engine.settings, embedder=embedder)
    again = restarted.conversations
    assert again is not store
    assert gone not in found(again, "") and gone not in found(again, "zebra crossing")
    assert kept in found(again, "stays")
    assert again.turns(gone) == [] and len(again.turns(kept)) == 1
    with pytest.raises(ConversationNotFound):
        conversation_export(again, gone)
    with pytest.raises(ConversationNotFound):
        again.summary(gone)
    assert restarted.feedback.records(gone) == []
    assert [r.rating for r in restarted.feedback.records(kept)] == ["up", "down"]
    assert conversation_export(again, kept).turns[0].answer == asked["en"].text


# --- migration ------------------------------------------------------------------------------------
OLD_SCHEMA = """
CREATE TABLE conversations (id TEXT PRIMARY KEY, created REAL NOT NULL);
CREATE TABLE turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    n INTEGER NOT NULL, question TEXT NOT NULL, standalone TEXT NOT NULL,
    answer TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (conversation_id, n));
"""


def test_a_store_from_before_titles_and_settings_is_migrated(tmp_path, asked):
    path = tmp_path / "conversations.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    started = time.time() - 3600
    old.execute("INSERT INTO conversations VALUES (?, ?)", ("old-conversation", started))
    for n, key in ((1, "en"), (2, "en+")):
        answer = asked[key].model_dump(mode="json")
        del answer["turn"]  # the old answers had no turn index
        old.execute(
            "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?)",
            (
                "old-conversation",
                n,
                asked[key].question,
                asked[key].question,
                json.dumps(answer),
                started + 60 * n,
            ),
        )
    old.commit()
    old.close()

    store = ConversationStore(path)
    with store.reading() as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
        assert {"title", "updated"} <= columns
        assert "settings" in {row[1] for row in db.execute("PRAGMA table_info(turns)")}
    total, page = store.summaries()
    assert total == 1 and page[0].conversation_id == "old-conversation" and page[0].turns == 2
    assert page[0].title == ASK["en"]  # its first question, as for new conversations
    assert page[0].updated == started + 120  # its last answer
    assert found(store, "haftar's militias") == {"old-conversation"}
    assert found(store, "COORDINATED") == {"old-conversation"}  # the 2nd question, backfilled
    turns = store.turns("old-conversation")
    assert [t.settings for t in turns] == [{}, {}]
    assert turns[0].answer.citations == asked["en"].citations
    export = conversation_export(store, "old-conversation")
    assert [t.turn for t in export.turns] == [0, 1]
    assert [t.question for t in export.turns] == [ASK["en"], "Who coordinated it?"]
    assert all(c.id in to_markdown(export) for t in export.turns for c in t.citations)
    newer = add_conversation(store, ASK["id"], asked["id"])  # the migrated store takes new turns
    assert ids(store.summaries()[1]) == [newer, "old-conversation"]
    assert ConversationStore(path).summaries()[0] == 2  # opening it again changes nothing


# --- export ---------------------------------------------------------------------------------------
def test_json_export_quotes_document_spans_and_ids_resolve(engine, asked):
    texts: dict[str, str] = {}
    for lang in ("en", "ar", "id"):
        cid = asked[lang].conversation_id
        export = conversation_export(engine.conversations, cid)
        again = ConversationExport.model_validate_json(export.model_dump_json())
        assert again == export
        assert export.conversation_id == cid and export.title == ASK[lang]
        expected = [asked[lang], asked["en+"]] if lang == "en" else [asked[lang]]
        assert [t.turn for t in export.turns] == list(range(len(expected)))
        assert [t.answer for t in export.turns] == [a.text for a in expected]
        assert [t.citations for t in export.turns] == [a.citations for a in expected]
        assert export.turns[0].language == lang and export.turns[0].grounded
        for turn in export.turns:
            for c in turn.citations:
                assert f"[{c.n}]" in turn.answer
                if c.doc_id not in texts:
                    doc, texts[c.doc_id] = engine.store.document(c.doc_id)
                    assert doc.doc_id == c.doc_id
                assert texts[c.doc_id][c.start : c.end] == c.quote
                resolved = lookup(engine.store, c.id).citation
                assert (resolved.id, resolved.doc_id, resolved.quote) == (c.id, c.doc_id, c.quote)


def test_an_export_holds_nothing_of_another_conversation(engine, asked):
    a, b = asked["en"], asked["ar"]
    export = conversation_export(engine.conversations, a.conversation_id)
    as_json = export.model_dump_json()
    as_md = to_markdown(export)
    mine = as_json + "\n".join(t.answer for t in export.turns)
    a_ids = {c.id for t in export.turns for c in t.citations}
    b_only_ids = [c.id for c in b.citations if c.id not in a_ids]
    b_only_lines = [line for line in b.text.split("\n") if line and line not in mine]
    assert b_only_ids and b_only_lines  # the two answers do differ
    for text in (as_json, as_md):
        assert b.conversation_id not in text and ASK["ar"] not in text
        assert b.text not in text
        for item in b_only_ids + b_only_lines:
            assert item not in text
    assert a.conversation_id in as_json and a.conversation_id in as_md


def inline_text(token: Token) -> str:
    """What a reader sees of an inline token (escapes resolved, line breaks as newlines)."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


def squash(text: str) -> str:
    return " ".join(text.replace(RLM, "").replace(LRM, "").split())


def blockquotes(tokens: list[Token]) -> list[str]:
    """The text of each top-level block quote (its paragraphs joined)."""
    quotes, depth, current = [], 0, []
    for token in tokens:
        if token.type == "blockquote_open":
            depth += 1
        elif token.type == "blockquote_close":
            depth -= 1
            if depth == 0:
                quotes.append("\n".join(current))
                current = []
        elif depth and token.type == "inline":
            current.append(inline_text(token))
        elif depth and token.type not in ("paragraph_open", "paragraph_close"):
            raise AssertionError(f"{token.type} inside a quote")
    return quotes


def every_token(tokens: list[Token]):
    for token in tokens:
        yield token
        yield from every_token(token.children or [])


def strong(ch: str) -> str | None:
    kind = unicodedata.bidirectional(ch)
    return "rtl" if kind in ("R", "AL") else "ltr" if kind == "L" else None


def answer_paragraphs(tokens: list[Token]) -> list[str]:
    """The raw text of the answer paragraphs: after a turn's heading, before its sources."""
    out, inside = [], False
    for i, token in enumerate(tokens):
        if token.type == "heading_close" and token.tag == "h2":
            inside = True
        elif token.type == "inline" and inside and tokens[i - 1].type == "paragraph_open":
            if token.content == "**Sources**":
                inside = False
            else:
                out.append(token.content)
        elif token.type == "hr":
            inside = False
    return out


def test_directed_marks_the_lines_whose_first_letter_misleads():
    assert directed("Haftar trained the militias") == "Haftar trained the militias"
    assert directed("درّب حفتر الميليشيات") == RLM + "درّب حفتر الميليشيات"
    assert directed("“Haftar” قال إن القوات تدربت") == RLM + "“Haftar” قال إن القوات تدربت"
    assert (
        directed("حفتر trained the militias in Libya") == LRM + "حفتر trained the militias in Libya"
    )
    assert directed("2019 — [1]") == "2019 — [1]"


def test_markdown_quotes_ids_and_directions(engine, asked):
    for lang in ("en", "ar"):
        export = conversation_export(engine.conversations, asked[lang].conversation_id)
        md = to_markdown(export)
        tokens = MarkdownIt("commonmark").parse(md)
        cited = [c for t in export.turns for c in t.citations]
        assert [squash(q) for q in blockquotes(tokens)] == [squash(c.quote) for c in cited]
        code = {t.content for t in every_token(tokens) if t.type == "code_inline"}
        assert {c.id for c in cited} | {export.conversation_id} <= code
        headings = [
            inline_text(tokens[i + 1])
            for i, t in enumerate(tokens)
            if t.type == "heading_open" and t.tag == "h2"
        ]
        assert [squash(h) for h in headings] == [
            f"{t.turn + 1}. {t.question}" for t in export.turns
        ]
        paragraphs = answer_paragraphs(tokens)
        assert [squash(p) for p in paragraphs] == [
            squash(line) for t in export.turns for line in t.answer.split("\n") if line.strip()
        ]
        arabic = 0
        for paragraph in paragraphs:
            letters = [strong(ch) for ch in paragraph.lstrip(RLM + LRM)]
            first = next(kind for kind in (strong(ch) for ch in paragraph) if kind)
            if letters.count("rtl") > letters.count("ltr"):
                arabic += 1
                assert paragraph.startswith(RLM), paragraph[:40]
            else:
                assert first == "ltr" and not paragraph.startswith(RLM), paragraph[:40]
        if lang == "ar":
            assert arabic >= 1  # the Arabic answer has Arabic lines, each marked
            title = next(t for t in tokens if t.type == "inline")
            assert title.content == RLM + ASK["ar"]  # "# ‏من درّب …"
        else:
            assert arabic == 0 and RLM not in "".join(paragraphs)


INJECTED = (
    "<b>Rades</b> port *report* [x](javascript:alert(2))\n\n"
    "The port of Rades <script>alert('x')</script> handled 7 million tonnes of cargo in 2023, "
    "the Tunisian port authority said on Monday. # Owned\n\n"
    "# Breaking: [click here](javascript:alert(1)) <img src=x onerror=alert(1)> the port of "
    "Rades will double its cargo capacity by 2026, officials said.\n\n"
    "- a list item\n1. a numbered item\n> a quote | a | table |\n"
)


def test_markdown_escapes_html_and_markdown_of_articles_and_questions(tmp_path, embedder):
    engine = make_engine(tmp_path, embedder)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "rades.txt").write_text(INJECTED, encoding="utf-8")
    engine.ingest([tmp_path / "in"], progress=False)
    question = (
        "How much cargo did the port of Rades handle in 2023? "
        "<script>alert(3)</script> # h [x](javascript:alert(4)) *bold*"
    )
    answer = engine.ask(question)
    assert answer.grounded and answer.citations, answer
    cid = answer.conversation_id
    store = engine.conversations
    # a second turn whose answer text itself carries markup around its [n] markers
    crafted = answer.model_copy(deep=True)
    crafted.text = "<iframe src=x></iframe> **not bold** [1] [y](javascript:z) <b>b</b> [1][2]"
    store.add_turn(cid, "# Follow-up <em>x</em>", "x", crafted)
    export = conversation_export(store, cid)
    md = to_markdown(export)

    tokens = MarkdownIt("commonmark").parse(md)  # the commonmark preset renders raw HTML
    kinds = {t.type for t in every_token(tokens)}
    assert not kinds & {"html_block", "html_inline", "link_open", "image", "em_open"}
    assert {t.type for t in tokens if t.type.endswith("_list_open")} == {"bullet_list_open"}
    sources = ["h3"] * len(answer.citations)  # the crafted turn cites the same passages
    headings = [t.tag for t in tokens if t.type == "heading_open"]
    assert headings == ["h1", "h2", *sources, "h2", *sources]
    html = MarkdownIt("commonmark").render(md)
    for raw in ("<script", "<img", "<iframe", "<b>", "<em>", "href=", 'javascript:alert(1)"'):
        assert raw not in html, raw
    assert html.count("<strong>") == 2  # only the export's own "Sources"
    assert "&lt;script&gt;alert" in html  # shown as text
    texts = [squash(inline_text(t)) for t in tokens if t.type == "inline"]
    assert texts[0] == squash(question)  # the title, literally
    assert squash("1. " + question) in texts and "2. # Follow-up <em>x</em>" in texts
    assert squash(crafted.text) in texts  # the answer's markup is text, its [n] stay
    assert "[1]" in md and "[1][2]" in md
    for c in answer.citations:  # the article's title in the source heading, literally
        assert squash(f"[{c.n}] {c.title}") in texts and "<b>Rades</b>" in c.title
    quotes = blockquotes(tokens)
    assert [squash(q) for q in quotes] == [
        squash(c.quote) for t in export.turns for c in t.citations
    ]
    assert any("<script>" in q for q in quotes) or any("<img" in q for q in quotes)


# --- feedback -------------------------------------------------------------------------------------
def test_feedback_records_are_self_contained(engine, asked):
    en = asked["en"]
    cid, cited = en.conversation_id, en.citations[1]
    up = engine.feedback.add(cid, 0, "up")
    down = engine.feedback.add(cid, 0, "down", cited.id, "  the passage does not say who  ")
    follow = engine.feedback.add(cid, 1, "up")
    assert (up.rating, up.citation_id, up.citation, up.comment) == ("up", None, None, None)
    assert (down.rating, down.citation_id, down.citation) == ("down", cited.id, cited)
    assert down.comment == "the passage does not say who"
    for record in (up, down):
        assert record.conversation_id == cid and record.turn == 0
        assert record.question == ASK["en"] and record.standalone == ASK["en"]
        assert record.answer == en.text and record.citations == en.citations
        assert (record.language, record.grounded, record.mode) == ("en", True, "extractive")
        assert record.settings == engine.answer_settings(None)
        assert (
            record.settings["answer_mode"] == "extractive" and record.settings["llm_model"] is None
        )
        assert record.settings["top_k"] == engine.settings.top_k
        assert record.created.endswith("+00:00")
    assert follow.turn == 1 and follow.question == "Who coordinated it?"
    assert follow.answer == asked["en+"].text and "Haftar" in follow.standalone
    assert engine.feedback.records(cid) == [up, down, follow]


def test_a_new_verdict_replaces_the_earlier_one(engine):
    answer = engine.ask("Who is Abbas Kamel?")  # a conversation of its own, citing two passages
    assert len(answer.citations) >= 2, answer.text
    cid, cited = answer.conversation_id, answer.citations[0]
    engine.feedback.add(cid, 0, "up")
    engine.feedback.add(cid, 0, "up", cited.id, "يدعم الجملة")
    engine.feedback.add(cid, 0, "down", answer.citations[-1].id)
    engine.feedback.add(cid, 0, "down", comment="ليس مفيداً")
    engine.feedback.add(cid, 0, "down", cited.id)
    records = engine.feedback.records(cid)
    by_key = {(r.turn, r.citation_id): r for r in records}
    assert len(records) == len(by_key) == 3  # one per answer and per cited passage
    assert (by_key[0, None].rating, by_key[0, None].comment) == ("down", "ليس مفيداً")
    assert (by_key[0, cited.id].rating, by_key[0, cited.id].comment) == ("down", None)
    assert by_key[0, answer.citations[-1].id].rating == "down"
    assert records[0].citation_id == answer.citations[-1].id  # the oldest surviving verdict first


def test_feedback_on_unknown_conversations_turns_and_citations_is_refused(engine, asked):
    en, ar = asked["en"], asked["ar"]
    cid = en.conversation_id
    before = engine.feedback.records()
    with pytest.raises(ConversationNotFound):
        engine.feedback.add("no-such-conversation", 0, "up")
    for turn in (2, 99, -1):
        with pytest.raises(TurnNotFound, match="turns count from 0"):
            engine.feedback.add(cid, turn, "up")
    not_cited = next(c.id for c in ar.citations if c.id not in {c.id for c in en.citations})
    with pytest.raises(ValueError, match="does not cite"):
        engine.feedback.add(cid, 0, "down", not_cited)
    follow_only = {c.id for c in asked["en+"].citations} - {c.id for c in en.citations}
    for other in sorted(follow_only)[:1]:  # cited by turn 1, not by turn 0
        with pytest.raises(ValueError, match="does not cite"):
            engine.feedback.add(cid, 0, "down", other)
    with pytest.raises(ValueError, match="does not cite"):
        engine.feedback.add(cid, 0, "down", "not-a-citation-id")
    with pytest.raises(ValueError, match="rating"):
        engine.feedback.add(cid, 0, "meh")
    with pytest.raises(ValueError, match=str(COMMENT_CHARS)):
        engine.feedback.add(cid, 0, "up", comment="x" * (COMMENT_CHARS + 1))
    assert engine.feedback.records() == before  # nothing was written
    longest = engine.feedback.add(cid, 0, "up", comment="  " + "x" * COMMENT_CHARS + "  ")
    assert longest.comment == "x" * COMMENT_CHARS


def test_jsonl_lines_are_the_records(engine, asked):
    engine.feedback.add(asked["ar"].conversation_id, 0, "down", comment="ليس مفيداً")
    engine.feedback.add(asked["en"].conversation_id, 0, "up")
    records = engine.feedback.records()
    assert {r.conversation_id for r in records} >= {
        asked["en"].conversation_id,
        asked["ar"].conversation_id,
    }
    lines = list(engine.feedback.jsonl())
    assert len(lines) == len(records)
    assert all(line.endswith("\n") and "\n" not in line[:-1] for line in lines)
    assert [FeedbackRecord.model_validate(json.loads(line)) for line in lines] == records
    text = "".join(lines)
    assert ASK["ar"] in text and "ليس مفيداً" in text  # UTF-8, not \u escapes
