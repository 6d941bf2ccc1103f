"""A question as retrieval and evidence scoring see it, embedded once (cf. QueryBundle)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Query:
    """The asked question, the standalone question retrieved with, and what scores against it.

    `vector` embeds `standalone` (a follow-up joined to the previous question). `centroids`
    are the corpus's language centroids when the question was asked (the reference prior fills
    a language the corpus lacks) and `prior` the reference centroids shipped with the model.
    """

    question: str
    standalone: str
    language: str
    vector: np.ndarray = field(repr=False)
    centroids: dict[str, np.ndarray] = field(repr=False)
    prior: dict[str, np.ndarray] = field(repr=False)
    fair: bool = True

    def offset(self, lang: str) -> float:
        """How typical the question is of the corpus's text in `lang` (0 when not fair)."""
        centroid = self.centroids.get(lang)
        return float(self.vector @ centroid) if self.fair and centroid is not None else 0.0

    def baseline(self, lang: str) -> float:
        """The question's similarity to typical text in `lang`, independent of this corpus."""
        reference = self.prior.get(lang, self.centroids.get(lang))
        return float(self.vector @ reference) if reference is not None else 0.0
