"""Text fields of API requests: valid Unicode only.

JSON may escape a lone surrogate ("\\ud800"); Python decodes it into a str that cannot be
encoded, and the tokenizer, sqlite and Chroma then fail with a 500. Such text is a 422.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def encodable(text: str) -> str:
    """The text unchanged; ValueError when it holds a lone surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    return text


Text = Annotated[str, AfterValidator(encodable)]
