"""How descriptions become index words and how `q` is read (domain/search.py)."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.search import MAX_INDEXED_WORDS, MAX_QUERY_WORDS, MAX_WORD_LENGTH, parse_query, words_of


def test_words_are_whole_case_folded_and_distinct_in_order() -> None:
    # Given a description with case, punctuation, underscores and repeats
    text = "User service: USER accounts, user_id lookups (gRPC v2)."
    # When it is split into words
    words = words_of(text)
    # Then each word appears once, case-folded, split at anything that is not a letter or digit
    assert words == ("user", "service", "accounts", "id", "lookups", "grpc", "v2")


def test_common_and_overlong_words_are_not_indexed() -> None:
    # Given stop words and a word longer than the bound
    text = f"The registry of the {'x' * (MAX_WORD_LENGTH + 1)} and {'y' * MAX_WORD_LENGTH}"
    # Then only the useful words within the bound remain
    assert words_of(text) == ("registry", "y" * MAX_WORD_LENGTH)


def test_a_description_indexes_a_bounded_number_of_words() -> None:
    # Given a description of far more distinct words than the bound
    text = " ".join(f"word{i}" for i in range(200))
    # Then the first MAX_INDEXED_WORDS distinct words are indexed, in order
    assert words_of(text) == tuple(f"word{i}" for i in range(MAX_INDEXED_WORDS))


def test_unicode_words_fold_compatibly() -> None:
    # Given full-width letters and a German sharp s
    # Then they fold to the same words a plain query would use
    assert words_of("Ｕser Straße") == ("user", "strasse")
    assert parse_query("STRASSE").words == ("strasse",)


def test_a_query_is_a_name_prefix_and_its_words() -> None:
    # Given a query that can start a module name
    query = parse_query("  Payments-API ")
    # Then it is searched as a name prefix (lower case) and as the words of a description
    assert query is not None
    assert query.text == "payments-api" and query.name_prefix == "payments-api"
    assert query.words == ("payments", "api")
    assert query.lead_word == "payments"  # the longest word's index partition is the one read


def test_a_query_that_cannot_start_a_name_searches_words_only() -> None:
    # Given queries with spaces or a leading dash, and one with only stop words and symbols
    spaced, dashed, nothing = parse_query("user service"), parse_query("-auth"), parse_query("the ++")
    # Then the first two search description words only, the last can find nothing
    assert spaced is not None and spaced.name_prefix is None and spaced.words == ("user", "service")
    assert dashed is not None and dashed.name_prefix is None and dashed.words == ("auth",)
    assert nothing is not None and nothing.finds_nothing


def test_blank_queries_list_everything_and_bad_ones_are_refused() -> None:
    # Given an absent or blank q
    # Then there is no search at all
    assert parse_query(None) is None and parse_query("   ") is None
    # And q over its bounds is a 400
    with pytest.raises(ValidationFailed):
        parse_query("q" * 101)
    with pytest.raises(ValidationFailed):
        parse_query(" ".join(f"w{i}" for i in range(MAX_QUERY_WORDS + 1)))
    with pytest.raises(ValidationFailed):
        parse_query(["not", "text"])
