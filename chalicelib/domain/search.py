"""What `GET /modules?q=` matches, and the words a module description is indexed under.

Search reads an index instead of every module: a name-prefix range of the module keys, and one
small item per (description word, module). So a description is reduced to a bounded set of whole
words here, once, and a query to the same words: both sides use `words_of`, hence match alike.

A module matches `q` when its name starts with `q` (case-insensitive), or when every word of `q`
is a whole word of its description (case-insensitive, among its first MAX_INDEXED_WORDS distinct
words). Substrings in the middle of a name or word do not match.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.models import Module

MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 8
# Index items of one module are written in its create transaction (DynamoDB: 100 items at most) and
# rewritten by PATCH (old and new words in one transaction), so a description indexes a bounded set.
MAX_INDEXED_WORDS = 32
MAX_WORD_LENGTH = 40  # longer "words" (hashes, URLs run together) are not indexed
# Words too common to tell modules apart: not indexed, ignored in queries.
STOP_WORDS = frozenset({"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it",
                        "of", "on", "or", "that", "the", "this", "to", "with"})

_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits, in any script
_NAME_PREFIX = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _fold(text: str) -> str:
    """Case-insensitive and compatibility-normalised: 'Ｕser' and 'USER' are 'user'."""
    return unicodedata.normalize("NFKC", text).casefold()


def words_of(text: str, limit: int | None = MAX_INDEXED_WORDS) -> tuple[str, ...]:
    """Distinct searchable words of a text, in order of first appearance, at most `limit`."""
    found: dict[str, None] = {}
    for match in _WORD.finditer(_fold(text)):
        word = match.group()
        if len(word) <= MAX_WORD_LENGTH and word not in STOP_WORDS:
            found.setdefault(word, None)
            if limit is not None and len(found) >= limit:
                break
    return tuple(found)


@dataclass(frozen=True)
class SearchQuery:
    """A parsed `q`: `text` scopes cursors, `name_prefix` is None when `q` cannot start a module
    name, `words` is empty when `q` has no indexable word (then only the name prefix can match)."""
    text: str
    name_prefix: str | None
    words: tuple[str, ...]

    @property
    def finds_nothing(self) -> bool:
        return self.name_prefix is None and not self.words

    @property
    def lead_word(self) -> str:
        """The word whose index partition is read (others filter it): the longest, likely the rarest."""
        return max(self.words, key=lambda word: (len(word), word))


def parse_query(value: object) -> SearchQuery | None:
    """None for an absent or blank `q` (list everything); a 400 for one that is not bounded text."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_QUERY_LENGTH:
        raise ValidationFailed(f"q must be at most {MAX_QUERY_LENGTH} characters", validation_errors=[
            {"field": "q", "code": "INVALID_LENGTH", "message": f"at most {MAX_QUERY_LENGTH} characters"}])
    text = _fold(value).strip()
    if not text:
        return None
    words = words_of(text, limit=None)
    if len(words) > MAX_QUERY_WORDS:
        raise ValidationFailed(f"q may hold at most {MAX_QUERY_WORDS} words", validation_errors=[
            {"field": "q", "code": "TOO_MANY_WORDS", "message": f"at most {MAX_QUERY_WORDS} words"}])
    prefix = text if _NAME_PREFIX.match(text) and ".." not in text else None
    return SearchQuery(text=text, name_prefix=prefix, words=words)


@dataclass(frozen=True)
class SearchPage:
    """One page of matches in name order. `matched` counts every match walked to build it (those
    skipped for the page number included), so with no `more` and no cursor it is the total."""
    modules: list[Module]
    more: bool
    matched: int
