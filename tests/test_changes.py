"""What changed since a draft was sent back (review/changes.py): the word diff, the fields compared, and
how the page marks the words without letting case text become markup (ui/components/changes.py).

The store's part (keeping the text sent back, on both stores) is in test_store_backends.py, the page's
in test_review_page.py.
"""

from __future__ import annotations

import re
from itertools import pairwise

from conftest import make_case
from hypothesis import given
from hypothesis import strategies as st
from test_inert_links import autolinks

from moresprudentie.cases.model import Case
from moresprudentie.review.changes import FIELDS, NOT_COMPARED, Piece, compare, field_text, word_diff
from moresprudentie.ui.components.changes import marked

TEXTS = st.text(alphabet=st.sampled_from(list("ab cd.,\n\t\xa0<>*_[]")), max_size=60) | st.lists(
    st.sampled_from(["de", "taart", "was", "lekker", "niet", ".", ",", "\n", "  "])
).map(" ".join)


def joined(pieces: tuple[Piece, ...], *kinds: str) -> str:
    return "".join(piece.text for piece in pieces if piece.kind in kinds)


def without_spaces(text: str) -> str:
    return re.sub(r"[^\S\n]", "", text)


@given(TEXTS, TEXTS)
def test_the_pieces_spell_out_both_texts(before: str, after: str) -> None:
    """Nothing is lost or made up: the new text whole, the old one word for word (spaces are no change)."""
    pieces = word_diff(before, after)
    assert joined(pieces, "same", "added") == after
    assert without_spaces(joined(pieces, "same", "removed")) == without_spaces(before)
    assert all(piece.text for piece in pieces)
    assert all(a.kind != b.kind for a, b in pairwise(pieces))  # merged runs


def test_a_replacement_reads_as_removed_words_then_added_ones() -> None:
    assert word_diff("Hij was rood en stil.", "Hij is groen en stil.") == (
        Piece("same", "Hij"),
        Piece("removed", " was rood"),
        Piece("added", " is groen"),
        Piece("same", " en stil."),
    )
    assert word_diff("De taart was lekker.", "De taart was lekker en groot.") == (
        Piece("same", "De taart was lekker"),
        Piece("added", " en groot"),
        Piece("same", "."),
    )
    assert word_diff("zelfde tekst", "zelfde  tekst") == (Piece("same", "zelfde  tekst"),)


def test_a_very_long_repetitive_text_is_compared_quickly() -> None:
    """Exact matching is quadratic on one repeated word; above a size it is coarser, never slow."""
    before = " ".join(["ja"] * 5000)
    pieces = word_diff(before, before.replace("ja ja", "ja nee", 1))
    assert joined(pieces, "same", "added").count("nee") == 1


def test_every_field_an_officer_writes_is_compared() -> None:
    """A field added to the model later must be added to FIELDS, or a change to it would go unseen."""
    assert set(FIELDS) | NOT_COMPARED == set(Case.model_fields) and len(FIELDS) == len(set(FIELDS))


def test_list_fields_read_one_item_a_line_in_the_forms_syntax() -> None:
    case = make_case(
        related=[{"id": "andere-casus", "relation": "nuances"}], options=["Aannemen", "Weigeren"], dissent=None
    )
    assert field_text(case.tensions) == "\n".join(f"{' / '.join(t.between)}: {t.prevailed}" for t in case.tensions)
    assert field_text(case.norms).startswith(f"{case.norms[0].source}: {case.norms[0].text}")
    assert field_text(case.related) == "andere-casus: nuances"
    assert field_text(case.options) == "Aannemen\nWeigeren" and field_text(case.dissent) == ""


def test_compare_names_every_field_in_reading_order() -> None:
    before = make_case(situation="Een medewerker krijgt een taart.", options=["Aannemen"])
    after = make_case(situation="Een medewerker krijgt een grote taart.", options=["Aannemen", "Delen"])
    fields = compare(before, after)
    assert [field.field for field in fields] == list(FIELDS)
    assert [field.field for field in fields if field.changed] == ["situation", "options"]
    options = next(field for field in fields if field.field == "options")
    assert options.pieces == (Piece("same", "Aannemen"), Piece("added", "\nDelen"))


# -- how the page marks them -----------------------------------------------------------------------


def test_marked_words_are_struck_on_red_or_bold_on_green() -> None:
    pieces = word_diff("Hij was rood en stil.", "Hij is groen en stil.")
    assert marked(pieces) == "Hij :red-background[~~was rood~~] :green-background[**is groen**] en stil."


def test_case_text_in_a_change_stays_text_never_markup_or_a_link() -> None:
    before = "Zie de site."
    after = "Zie <script>alert(1)</script> **vet** [klik](javascript:x) :red[rood] op https://voorbeeld.nl nu."
    shown = marked(word_diff(before, after))
    assert "<script>" not in shown and "\\<script\\>" in shown
    assert "**vet**" not in shown and "\\*\\*vet\\*\\*" in shown
    assert "](javascript" not in shown and ":red[" not in shown
    assert autolinks(shown) == []
    assert shown.count(":green-background[") == 1  # one run of added words, one mark


def test_line_breaks_are_kept_and_a_changed_one_shows() -> None:
    shown = marked(word_diff("Eerste regel.\n    Tweede regel.", "Eerste regel.\n\n    Tweede regel."))
    assert ":green-background[**¶**]" in shown
    assert "\n " not in shown  # no indentation that would make a code block
    assert marked(word_diff("a\nb", "a\nb")) == "a  \nb"


def test_how_a_file_wraps_a_paragraph_is_no_change() -> None:
    """A case file wraps long lines (dump_case); the reviewer reads paragraphs, as every reader does,
    so a re-wrapped paragraph is unchanged and a changed one shows without the file's line breaks."""
    before = make_case(situation="Een burger brengt\neen taart naar de balie.\n\nHij is blij.")
    rewrapped = make_case(situation="Een burger brengt een\ntaart naar de balie.\n\nHij is blij.")
    edited = make_case(situation="Een burger brengt\neen grote taart naar de balie.\n\nHij is blij.")
    situation = {change.field: change for change in compare(before, rewrapped)}["situation"]
    assert not situation.changed
    situation = {change.field: change for change in compare(before, edited)}["situation"]
    assert situation.after == "Een burger brengt een grote taart naar de balie.\n\nHij is blij."
    assert [piece.text.strip() for piece in situation.pieces if piece.kind != "same"] == ["grote"]
