"""One provenance value and one page encoding, for documents and for their chunks."""

from __future__ import annotations

from index.provenance import Pages, Provenance

# A three-page document: page 1 at 0, page 2 at 100, page 3 at 250.
DOC = Provenance(
    "Report", "uploads/report.pdf", "ar", "2024-02-10", "Ledger", pages=Pages(1, (0, 100, 250))
)


def test_pages_of_a_document_and_of_a_chunk_agree():
    assert [DOC.pages.at(o) for o in (0, 99, 100, 249, 250, 999)] == [1, 1, 2, 2, 3, 3]
    chunk = DOC.within(90, 260)
    assert chunk.pages == Pages(1, (90, 100, 250))
    assert all(chunk.pages.at(o) == DOC.pages.at(o) for o in range(90, 260))
    assert DOC.within(120, 200).pages == Pages(2, (120,))
    assert DOC.pages.count == 3


def test_a_format_without_pages_has_none():
    plain = Provenance("Note", "note.txt", "en")
    assert plain.pages.at(10) is None and plain.within(5, 50).pages.at(10) is None
    assert plain.pages.count == 0 and "page_starts" not in plain.to_meta()


def test_metadata_round_trip_and_older_chunks():
    for origin in (DOC, DOC.within(90, 260), Provenance("Note", "note.txt", "en")):
        assert Provenance.from_meta(origin.to_meta()) == origin
    # chunks written before one encoding stored the page they start on and the breaks inside
    older = {"title": "Report", "source": "r.pdf", "lang": "ar", "start": 90, "page": 1}
    assert Provenance.from_meta({**older, "page_breaks": "100,250"}).pages == Pages(
        1, (90, 100, 250)
    )
    # documents written before stored every page start from offset 0
    assert Provenance.from_meta({"title": "R", "page_starts": "0,100"}).pages == Pages(1, (0, 100))
