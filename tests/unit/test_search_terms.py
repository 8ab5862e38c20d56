"""Which path answers a register search (db/search.py): key-like text, Chinese character
pairs, the trigram and scan paths, and the searchable text of a case."""
from __future__ import annotations

import pytest

from db import search


@pytest.mark.parametrize("q", ["KS2612-3308", "ks2612", "PO-88231", "L2601A", "P-100",
                               "ref12", "2026", "100%", "lot_1", "A/B-7"])
def test_keys_as_typed_take_the_key_path(q: str) -> None:
    assert search.looks_like_key(q)


@pytest.mark.parametrize("q", ["划伤", "KS2612 3308", "Scratch", "lot_A", "12", "L26划伤",
                               "ＫＳ２６１２", "PO-1\t2", "x" * 99 + "1" * 2])
def test_words_spaces_chinese_and_short_text_are_free_text(q: str) -> None:
    assert not search.looks_like_key(q)


def test_the_key_range_is_every_upper_case_value_starting_with_the_text() -> None:
    lo, hi = search.key_range("ks26")
    assert lo == "KS26"
    for v in ("KS26", "KS2612-3308", "KS26\uffff"):
        assert lo <= v < hi
    for v in ("KS25-9", "KS27", "KS2", "KT"):
        assert not lo <= v < hi


def test_bigrams_are_the_pairs_of_adjacent_chinese_characters() -> None:
    assert search.bigrams("外观划伤") == {"外观", "观划", "划伤"}
    # Latin letters, digits, spaces, punctuation and the column separator break a pair
    assert search.bigrams(f"划伤 12件A开裂{search.SEP}严重，变形") == {"划伤", "开裂", "严重",
                                                                    "变形"}
    assert search.bigrams("Müller ÉÉ ΔE 2mm") == set()  # letters with a case: never
    assert search.bigrams("ひび割れ") == {"ひび", "び割", "割れ"}


@pytest.mark.parametrize("q, trigram, path", [
    ("划伤", True, "bigram"), ("划伤", False, "bigram"), ("划伤严", True, "trigram"),
    ("划伤严", False, "scan"), ("Scratch", True, "trigram"), ("ab", True, "scan"),
    ("划A", True, "scan"), ("伤", True, "scan"), ("%_", True, "scan"), ("a_b", True, "trigram"),
])
def test_the_free_text_path(q: str, trigram: bool, path: str) -> None:
    assert search.path_of(q, trigram) == path


def test_a_case_s_searchable_text_joins_its_columns_with_a_character_no_search_holds() -> None:
    doc = search.document({"number": "KS2612-0001", "description": "划伤", "lot": "L1",
                           "order_no": None})
    assert doc.split(search.SEP) == ["KS2612-0001", "", "", "划伤", "", "L1", ""]
    from core.rules.complaint_fields import CONTROL
    assert CONTROL.sub("", search.SEP) == ""  # removed from every search text
    assert search.fts_phrase('3" 管') == '"3"" 管"'


def test_the_search_s_own_objects_are_told_from_the_models() -> None:
    assert all(search.own_object(n) for n in (*search.key_index_names(), search.TRGM_INDEX,
                                               "search_text", "search_text_data"))
    assert not any(search.own_object(n) for n in ("complaints", "complaint_bigrams", None,
                                                   "ix_complaints_state"))
