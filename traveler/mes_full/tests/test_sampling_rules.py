"""The sampling decision as a pure function: the exact parts each kind of rule selects."""

from decimal import Decimal

import pytest

from traveler.mes_full.services import sampling_rules as sr

R = sr.Rule


def picks(rule: sr.Rule, n: int) -> list[int]:
    return sr.selected_positions([rule], n)


def test_every_nth_part():
    assert picks(R("every_nth", count=5), 23) == [5, 10, 15, 20]
    assert picks(R("every_nth", count=1), 4) == [1, 2, 3, 4]
    assert picks(R("every_nth", count=30), 23) == []


def test_percentage_spreads_the_ceiling_of_p_n_evenly_and_never_takes_the_first_k():
    assert picks(R("percentage", percent=Decimal("10")), 50) == [10, 20, 30, 40, 50]
    assert picks(R("percentage", percent=Decimal("7")), 30) == [10, 20, 30]  # ⌈2.1⌉ = 3
    assert picks(R("percentage", percent=Decimal("12.5")), 20) == [7, 14, 20]  # ⌈2.5⌉ = 3
    assert picks(R("percentage", percent=Decimal("0.1")), 7) == [7]  # ⌈0.007⌉ = 1: the last part
    assert picks(R("percentage", percent=Decimal("100")), 3) == [1, 2, 3]
    # 33 % of 3 is 0.99: one part, not zero, and exactly (no float rounding of 0.33 · 300 = 99).
    assert picks(R("percentage", percent=Decimal("33")), 3) == [3]
    assert picks(R("percentage", percent=Decimal("33")), 300) == [i for i in range(1, 301) if (i * 99) // 300 != ((i - 1) * 99) // 300]
    assert len(picks(R("percentage", percent=Decimal("33")), 300)) == 99


def test_first_and_last_n():
    assert picks(R("first_n", count=3), 10) == [1, 2, 3]
    assert picks(R("first_n", count=12), 10) == list(range(1, 11))
    assert picks(R("last_n", count=2), 10) == [9, 10]
    assert picks(R("last_n", count=12), 3) == [1, 2, 3]


def test_exact_count_per_work_order():
    assert picks(R("exact_count", count=4), 10) == [3, 5, 8, 10]
    assert picks(R("exact_count", count=1), 9) == [9]
    assert picks(R("exact_count", count=12), 10) == list(range(1, 11))


def test_random_with_a_seed_is_reproducible_and_independent_of_the_quantity():
    rule = R("random", percent=Decimal("20"), seed=42)
    assert picks(rule, 20) == [1, 13, 20]
    assert picks(rule, 40) == [1, 13, 20, 21, 29, 36, 39]  # the first 20 positions decide as before
    assert picks(R("random", percent=Decimal("20"), seed=43), 20) != [1, 13, 20]
    many = picks(R("random", percent=Decimal("25"), seed=7), 4000)
    assert 900 < len(many) < 1100


def test_a_lot_plan_decides_no_single_part():
    lot = R("z14_lot", inspection_level="II", aql="1.0")
    assert picks(lot, 50) == []
    assert sr.decide([lot], 5, 50) == (False, None)


def test_several_rules_select_when_any_does_and_the_first_is_recorded():
    first, nth = R("first_n", count=2, pk=1), R("every_nth", count=4, pk=2)
    assert sr.selected_positions([first, nth], 9) == [1, 2, 4, 8]
    assert sr.decide([first, nth], 4, 9) == (True, nth)
    assert sr.decide([nth, R("every_nth", count=2, pk=3)], 4, 9) == (True, nth)
    assert sr.decide([first, nth], 3, 9) == (False, None)


def test_a_part_without_a_position_is_always_inspected():
    assert sr.decide([R("every_nth", count=5)], None, 10) == (True, None)
    assert sr.decide([R("every_nth", count=5)], 3, None) == (True, None)


@pytest.mark.parametrize("rule,words", [
    (R("every_nth", count=5), "every 5th"), (R("every_nth", count=2), "every 2nd"),
    (R("every_nth", count=11), "every 11th"), (R("every_nth", count=21), "every 21st"),
    (R("every_nth", count=1), "every part"), (R("first_n", count=3), "first 3"), (R("last_n", count=2), "last 2"),
    (R("percentage", percent=Decimal("12.50")), "12.5 % spread evenly"),
    (R("exact_count", count=4), "exactly 4 spread evenly"),
    (R("random", percent=Decimal("5"), seed=9), "random 5 % (seed 9)"),
    (R("z14_lot", inspection_level="II", aql="1.0"), "Z1.4 lot plan, level II, AQL 1.0"),
])
def test_rules_in_words(rule, words):
    assert sr.describe(rule) == words


def test_preview_in_numbers_and_words():
    p = sr.preview(rules=[R("every_nth", count=5), R("every_nth", count=1, mode="fallback")], quantity=50,
                   fallback_parts=10, fallback_passes=None)
    assert p["primary"] == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
    assert p["primary_rate"] == 0.2
    assert p["text"] == ("In a work order of 50 parts this selects parts 5, 10, 15, 20, 25, 30, 35, 40, … (10 of 50); "
                         "after a defect the next 10 parts.")
    p = sr.preview(rules=[R("percentage", percent=Decimal("10")), R("every_nth", count=2, mode="fallback"),
                          R("z14_lot", inspection_level="II", aql="1.0")], quantity=50, fallback_parts=10,
                   fallback_passes=3)
    assert p["text"] == ("In a work order of 50 parts this selects parts 10, 20, 30, 40, 50 (5 of 50); after a defect "
                         "every 2nd of the next 10 parts or until 3 inspections in a row pass. Z1.4 lot plan, level "
                         "II, AQL 1.0 (lot acceptance, not part by part).")
    assert p["fallback"] == list(range(2, 51, 2))
