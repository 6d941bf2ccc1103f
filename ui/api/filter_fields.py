"""The retrieval filters as request fields, shared by /api and /v1."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from index.filters import Filters
from index.language import Lang
from ui.api.errors import ApiError
from ui.api.text import Text


class FilterFields(BaseModel):
    """Which passages may be used: languages, documents, sources and a publication-date range."""

    model_config = ConfigDict(extra="forbid")

    languages: list[Lang] | None = Field(None, description="Only passages in these languages.")
    doc_ids: list[Text] | None = Field(None, description="Only passages of these documents.")
    sources: list[Text] | None = Field(
        None,
        description='Only documents from these sources: a site name ("Reuters"), a host '
        '("reuters.com"), a file or folder as ingested ("seeds"), or a URL.',
    )
    published_after: dt.date | None = Field(
        None, description="Only documents published on or after this date (YYYY-MM-DD)."
    )
    published_before: dt.date | None = Field(
        None,
        description="Only documents published on or before this date (YYYY-MM-DD). With "
        "either date set, documents that state no date are left out.",
    )

    def filters(self) -> Filters:
        """The retrieval filters; ApiError(422) for an empty date range."""
        try:
            return Filters.of(
                self.languages,
                self.doc_ids,
                self.sources,
                self.published_after,
                self.published_before,
            )
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from exc
