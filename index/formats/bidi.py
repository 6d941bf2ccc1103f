"""One line of text in visual order (as PDFs draw right-to-left scripts) back to logical order.

The inverse of the Unicode bidi algorithm for plain paragraphs (levels 0-2, no embeddings):
resolve each unit's direction from its neighbours on the line, give it the level the forward
algorithm would have given it, and reverse runs from the highest level down. The inverse is
not unique (`foo 123 ABC` and `foo ABC 123` can look alike); the choice made here is the
reading news text most often needs: numbers and Latin runs inside Arabic stay left-to-right.
Nor is a line's own direction drawn: it is read from the letters at its ends, so punctuation
ending an Arabic sentence set in a left-to-right paragraph comes out at its start.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

_MIRRORED = str.maketrans("()[]{}<>«»‹›", ")(][}{><»«›‹")
_NUMBER_SEPARATORS = ("ES", "CS")


def _kind(unit: str) -> str:
    """The bidi class of a unit's first character, folded to L, R, EN, ES, CS, ET or N."""
    cls = unicodedata.bidirectional(unit[0]) if unit else ""
    if cls in ("R", "AL"):
        return "R"
    if cls == "AN":
        return "EN"
    return cls if cls in ("L", "EN", "ES", "CS", "ET") else "N"


def _resolve_numbers(kinds: list[str]) -> None:
    """Separators between digits and currency/percent signs next to digits become digits."""
    for i in range(1, len(kinds) - 1):
        if kinds[i] in _NUMBER_SEPARATORS and kinds[i - 1] == kinds[i + 1] == "EN":
            kinds[i] = "EN"
    for order in (range(len(kinds)), range(len(kinds) - 1, -1, -1)):
        previous = ""
        for i in order:
            if kinds[i] == "ET" and previous == "EN":
                kinds[i] = "EN"
            previous = kinds[i]
    for i, kind in enumerate(kinds):
        if kind in ("ES", "CS", "ET"):
            kinds[i] = "N"


def _resolve_digits_after_latin(kinds: list[str], paragraph: str) -> None:
    """Digits whose nearest strong unit on the left is Latin read as Latin (W7)."""
    strong = paragraph
    for i, kind in enumerate(kinds):
        if kind in ("L", "R"):
            strong = kind
        elif kind == "EN" and strong == "L":
            kinds[i] = "L"


def _resolve_neutrals(kinds: list[str], paragraph: str) -> None:
    """A run of neutrals takes the direction of both its sides when they agree (N1, N2)."""
    i = 0
    while i < len(kinds):
        if kinds[i] != "N":
            i += 1
            continue
        j = i
        while j < len(kinds) and kinds[j] == "N":
            j += 1
        left = kinds[i - 1] if i > 0 else paragraph
        right = kinds[j] if j < len(kinds) else paragraph
        left, right = ("R" if side == "EN" else side for side in (left, right))
        kinds[i:j] = [left if left == right else paragraph] * (j - i)
        i = j


def _reversed_runs(levels: list[int]) -> list[int]:
    """Indices of units in the order that reverses every run at each level, highest first."""
    order = list(range(len(levels)))
    for level in range(max(levels, default=0), 0, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] < level:
                i += 1
                continue
            j = i
            while j < len(order) and levels[order[j]] >= level:
                j += 1
            order[i:j] = order[i:j][::-1]
            i = j
    return order


def direction(units: Sequence[str]) -> str:
    """A page's direction, "R" when more units begin with a right-to-left letter, else "L"."""
    kinds = [_kind(unit) for unit in units]
    return "R" if kinds.count("R") > kinds.count("L") else "L"


def _paragraph(kinds: list[str], rtl_default: bool) -> str:
    """A line's direction: that of the letters at both its ends when they agree.

    A right-to-left line begins at its right end and ends at its left, so letters of one
    direction at both ends say the line runs that way whatever runs it holds in between;
    otherwise (or without letters) the line runs as the page does.
    """
    strong = [kind for kind in kinds if kind in ("L", "R")]
    if strong and strong[0] == strong[-1]:
        return strong[0]
    return "R" if rtl_default else "L"


def visual_to_logical(units: Sequence[str], rtl_default: bool = False) -> str:
    """The logical text of a line given as units (a character with its marks) left to right.

    `rtl_default` says whether the page around the line reads right to left (see `direction`).
    """
    kinds = [_kind(unit) for unit in units]
    paragraph = _paragraph(kinds, rtl_default)
    if paragraph == "L" and "R" not in kinds:
        return "".join(units)
    _resolve_numbers(kinds)
    _resolve_digits_after_latin(kinds, paragraph)
    _resolve_neutrals(kinds, paragraph)
    levels_of = {"L": 0, "R": 1, "EN": 2} if paragraph == "L" else {"L": 2, "R": 1, "EN": 2}
    levels = [levels_of[kind] for kind in kinds]
    return "".join(
        units[i].translate(_MIRRORED) if levels[i] % 2 else units[i] for i in _reversed_runs(levels)
    )
