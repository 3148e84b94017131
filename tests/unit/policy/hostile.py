"""Hostile characters for the parsing tests, computed the first time a test asks (never at import)."""

from __future__ import annotations

import functools
import sys
import unicodedata


@functools.cache
def unicode_digits() -> tuple[str, ...]:
    """Every non-ASCII character Python calls a digit: all of category Nd (``\\d``), plus superscripts."""
    return tuple(c for c in map(chr, range(0x80, sys.maxunicode + 1)) if unicodedata.category(c) == "Nd" or c.isdigit())


@functools.cache
def case_lookalikes() -> tuple[tuple[str, str], ...]:
    """Every non-ASCII character whose upper case, lower case or case fold is ASCII letters.

    ``(character, the ASCII letters in upper case)``, e.g. the dotless i gives ``("\\u0131", "I")`` and the
    ligature fi ``("\\ufb01", "FI")``.
    """
    found = []
    for c in map(chr, range(0x80, sys.maxunicode + 1)):
        for mapped in (c.upper(), c.lower(), c.casefold()):
            if mapped.isascii() and mapped.isalpha():
                found.append((c, mapped.upper()))
                break
    return tuple(found)


def fullwidth(text: str) -> str:
    """The same ASCII text in fullwidth forms (U+FF01..U+FF5E)."""
    return "".join(chr(ord(c) - 0x21 + 0xFF01) if "!" <= c <= "~" else c for c in text)


def lookalikes(word: str) -> list[str]:
    """Non-ASCII spellings of ``word`` that Unicode case mapping or the eye takes for it.

    Each replaces one run of letters by a character from ``case_lookalikes`` (in upper and lower case
    surroundings), plus the fullwidth spelling. Every one of them must be refused where ``word`` is accepted.
    """
    found = [fullwidth(word), fullwidth(word.lower())]
    upper = word.upper()
    for char, letters in case_lookalikes():
        start = upper.find(letters)
        while start != -1:
            for base in (upper, word.lower()):
                found.append(base[:start] + char + base[start + len(letters) :])
            start = upper.find(letters, start + 1)
    return found
