"""User-facing fixed sentences in the three languages of the product."""

from __future__ import annotations

NO_EVIDENCE = {
    "ar": "لا تتضمن المقالات المتاحة ما يجيب عن هذا السؤال.",
    "en": "The articles in the corpus do not say.",
    "id": "Artikel dalam korpus tidak memuat jawaban atas pertanyaan ini.",
}

LLM_FALLBACK = {
    "ar": "تعذّر الوصول إلى النموذج اللغوي؛ هذه إجابة مقتبسة من المصادر مباشرة.",
    "en": "The language model could not be reached; this answer quotes the sources directly.",
    "id": "Model bahasa tidak dapat dihubungi; jawaban ini mengutip sumber secara langsung.",
}


def say(table: dict[str, str], language: str) -> str:
    """The sentence in the question's language (English for any other language)."""
    return table.get(language, table["en"])
