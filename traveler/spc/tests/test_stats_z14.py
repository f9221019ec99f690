"""ANSI/ASQ Z1.4-2003 tables and switching rules.

Reference cells are Z1.4 / MIL-STD-105E plans as printed in the reproductions listed in
docs/statistics.md section 5 (Z1.4's single sampling plans are MIL-STD-105E's); the
structural and OC-curve property tests check every cell.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from traveler.spc.stats import StatsInputError, Z14Switching, code_letter, sampling_plan, z14_plan, z14_switch
from traveler.spc.stats.z14_tables import AQLS, CODE_LETTERS, LEVELS, MASTER_TABLES, SAMPLE_SIZES

LOT_EXAMPLES = [
    2,
    8,
    9,
    15,
    16,
    25,
    26,
    50,
    51,
    90,
    91,
    150,
    151,
    280,
    281,
    500,
    501,
    1200,
    1201,
    3200,
    3201,
    10000,
    10001,
    35000,
    35001,
    150000,
    150001,
    500000,
    500001,
    10**7,
]
AC_SERIES = {
    "normal": {(0, 1), (1, 2), (2, 3), (3, 4), (5, 6), (7, 8), (10, 11), (14, 15), (21, 22), (30, 31), (44, 45)},
    "tightened": {(0, 1), (1, 2), (2, 3), (3, 4), (5, 6), (8, 9), (12, 13), (18, 19), (27, 28), (41, 42)},
    "reduced": {(0, 1), (0, 2), (1, 3), (1, 4), (2, 5), (3, 6), (5, 8), (7, 10), (10, 13), (14, 17), (21, 24)},
}


@pytest.mark.parametrize(
    ("lot", "level", "letter"),
    [
        (1000, "II", "J"),
        (2, "II", "A"),
        (8, "III", "B"),
        (9, "II", "B"),
        (60, "II", "E"),
        (120, "II", "F"),
        (200, "II", "G"),
        (400, "I", "F"),
        (3000, "S-4", "G"),
        (5000, "S-3", "F"),
        (20000, "S-1", "C"),
        (40000, "S-2", "E"),
        (200000, "S-4", "J"),
        (600000, "III", "R"),
        (600000, "S-3", "H"),
        (1200, "II", "J"),
        (1201, "II", "K"),
        (35000, "I", "K"),
        (150000, "II", "N"),
        (500000, "II", "P"),
        (500001, "I", "N"),
    ],
)
def test_table_i_code_letters(lot: int, level: str, letter: str) -> None:
    assert code_letter(lot_size=lot, level=level) == letter


def test_table_i_is_monotone_in_lot_size_and_level() -> None:
    order = "ABCDEFGHJKLMNPQR"
    assert [row[0] for row in CODE_LETTERS] == [
        2,
        9,
        16,
        26,
        51,
        91,
        151,
        281,
        501,
        1201,
        3201,
        10001,
        35001,
        150001,
        500001,
    ]
    for _low, _high, letters in CODE_LETTERS:
        codes = letters.split()
        assert len(codes) == 7
        # Within the general levels, I <= II <= III; S-1 <= S-2 <= S-3 <= S-4.
        assert order.index(codes[4]) <= order.index(codes[5]) <= order.index(codes[6])
        assert [order.index(c) for c in codes[:4]] == sorted(order.index(c) for c in codes[:4])
    for column in range(7):
        letters = [order.index(row[2].split()[column]) for row in CODE_LETTERS]
        assert letters == sorted(letters)


@pytest.mark.parametrize(
    ("lot", "aql", "severity", "letter", "n", "ac", "re"),
    [
        (1000, 1.0, "normal", "J", 80, 2, 3),
        (1000, 2.5, "normal", "J", 80, 5, 6),
        (1000, 4.0, "normal", "J", 80, 7, 8),
        (1000, 0.65, "normal", "J", 80, 1, 2),
        (1000, 6.5, "normal", "J", 80, 10, 11),
        (2000, 1.0, "normal", "K", 125, 3, 4),
        (5000, 1.0, "normal", "L", 200, 5, 6),
        (60, 1.0, "normal", "E", 13, 0, 1),
        (60, 1.5, "normal", "D", 8, 0, 1),  # arrow up: E -> D
        (60, 2.5, "normal", "F", 20, 1, 2),  # arrow down: E -> F
        (60, 4.0, "normal", "E", 13, 1, 2),
        (120, 1.0, "normal", "E", 13, 0, 1),  # F, arrow up
        (200, 1.0, "normal", "H", 50, 1, 2),  # G, arrow down
        (200, 2.5, "normal", "G", 32, 2, 3),
        (1000, 1.0, "tightened", "J", 80, 1, 2),
        (1000, 2.5, "tightened", "J", 80, 3, 4),
        (1000, 4.0, "tightened", "J", 80, 5, 6),
        (1000, 6.5, "tightened", "J", 80, 8, 9),
        (1000, 1.0, "reduced", "J", 32, 1, 3),
        (1000, 2.5, "reduced", "J", 32, 2, 5),
        (1000, 4.0, "reduced", "J", 32, 3, 6),
        (2000, 2.5, "reduced", "K", 50, 3, 6),
        (10**6, 0.010, "normal", "Q", 1250, 0, 1),
        (10**6, 0.010, "tightened", "R", 2000, 0, 1),
        (10**6, 0.025, "normal", "R", 2000, 1, 2),  # Q, arrow down
    ],
)
def test_hand_verified_plans(lot: int, aql: float, severity: str, letter: str, n: int, ac: int, re: int) -> None:
    plan = z14_plan(lot_size=lot, level="II", aql=aql, severity=severity)
    assert (plan["plan_code_letter"], plan["sample_size"], plan["acceptance_number"], plan["rejection_number"]) == (
        letter,
        n,
        ac,
        re,
    )


def test_arrow_is_followed_to_that_plans_sample_size_and_reported() -> None:
    plan = z14_plan(lot_size=200, level="II", aql=1.0)
    assert plan["code_letter"] == "G" and plan["plan_code_letter"] == "H" and plan["arrow"] == "down"
    assert plan["notes"] and "H" in plan["notes"][0]


def test_sample_size_not_below_lot_size_means_100_percent_inspection() -> None:
    plan = z14_plan(lot_size=1000, level="II", aql=0.010)
    assert plan["plan_code_letter"] == "Q" and plan["table_sample_size"] == 1250
    assert plan["inspect_100_percent"] and plan["sample_size"] == 1000
    assert any("100 %" in note for note in plan["notes"])
    tiny = z14_plan(lot_size=3, level="III", aql=0.65)
    assert tiny["inspect_100_percent"]


def test_largest_lot_tightened_uses_row_s() -> None:
    plan = z14_plan(lot_size=600000, level="III", aql=0.025, severity="tightened")
    assert (plan["plan_code_letter"], plan["sample_size"], plan["acceptance_number"]) == ("S", 3150, 1)


def _plan_cells(severity: str):  # noqa: ANN202
    for letter, row in MASTER_TABLES[severity].items():
        cells = row.split()
        assert len(cells) == 26, (severity, letter)
        for j, cell in enumerate(cells):
            yield letter, j, cell


@pytest.mark.parametrize("severity", ["normal", "tightened", "reduced"])
def test_every_cell_is_well_formed(severity: str) -> None:
    letters = list(SAMPLE_SIZES[severity])
    assert list(MASTER_TABLES[severity]) == letters
    for letter, j, cell in _plan_cells(severity):
        assert cell in ("v", "^", "-") or "/" in cell, (letter, j, cell)
        if "/" in cell:
            ac, re = (int(v) for v in cell.split("/"))
            assert (ac, re) in AC_SERIES[severity], (severity, letter, AQLS[j], cell)


@pytest.mark.parametrize("severity", ["normal", "tightened", "reduced"])
def test_acceptance_numbers_grow_along_rows_and_columns_and_diagonals_agree(severity: str) -> None:
    table = {letter: row.split() for letter, row in MASTER_TABLES[severity].items()}
    letters = list(table)

    def ac(cell: str) -> int | None:
        return int(cell.split("/")[0]) if "/" in cell else None

    for letter in letters:
        values = [ac(c) for c in table[letter] if ac(c) is not None]
        assert values == sorted(values), (severity, letter)
    for j in range(26):
        values = [ac(table[letter][j]) for letter in letters if ac(table[letter][j]) is not None]
        assert values == sorted(values), (severity, AQLS[j])
    # Cells with the same sample size x AQL product (one letter down, one AQL left) hold
    # the same plan wherever both are plans: the master tables are built on diagonals.
    for i in range(len(letters) - 1):
        for j in range(1, 26):
            a, b = table[letters[i]][j], table[letters[i + 1]][j - 1]
            if "/" in a and "/" in b:
                assert a == b, (severity, letters[i], AQLS[j])


def test_every_lot_level_aql_resolves_and_tightened_is_never_more_lenient() -> None:
    checked = 0
    for lot in LOT_EXAMPLES:
        for level in LEVELS:
            for aql in AQLS:
                normal = sampling_plan(lot_size=lot, level=level, aql=aql, severity="normal")
                tight = sampling_plan(lot_size=lot, level=level, aql=aql, severity="tightened")
                reduced = sampling_plan(lot_size=lot, level=level, aql=aql, severity="reduced")
                ratio_n = normal.acceptance_number / normal.table_sample_size
                ratio_t = tight.acceptance_number / tight.table_sample_size
                assert ratio_t <= ratio_n + 1e-12, (lot, level, aql)
                assert tight.table_sample_size >= normal.table_sample_size or tight.acceptance_number == 0
                assert reduced.table_sample_size <= normal.table_sample_size, (lot, level, aql)
                for plan in (normal, tight, reduced):
                    assert plan.rejection_number > plan.acceptance_number
                    assert plan.sample_size == min(plan.table_sample_size, lot)
                checked += 1
    assert checked == len(LOT_EXAMPLES) * 7 * 26


def _letter_lots() -> dict[str, tuple[int, str]]:
    """One (lot size, level) per code letter A..R, read from Table I."""
    out: dict[str, tuple[int, str]] = {}
    for low, _high, letters in CODE_LETTERS:
        for level, letter in zip(LEVELS, letters.split(), strict=True):
            out.setdefault(letter, (low, level))
    assert sorted(out) == sorted("ABCDEFGHJKLMNPQR")
    return out


def _pa(n: int, ac: int, p: np.ndarray, aql: str) -> np.ndarray:
    # Z1.4: AQLs up to 10 are percent nonconforming (binomial); above 10 they are
    # nonconformities per 100 units (Poisson, p = nonconformities per unit).
    if float(aql) <= 10:
        return stats.binom.cdf(ac, n, p)
    return stats.poisson.cdf(ac, n * p)


def _table_plan(letter: str, aql: str, severity: str) -> tuple[int, int, int]:
    lot, level = _letter_lots()[letter]
    plan = sampling_plan(lot_size=lot, level=level, aql=aql, severity=severity)
    assert plan.code_letter == letter
    return plan.table_sample_size, plan.acceptance_number, plan.rejection_number


def test_tightened_never_accepts_more_than_normal_anywhere_on_the_oc_curve() -> None:
    """Every code letter x AQL: Pa(tightened) <= Pa(normal), at the AQL and beyond it.

    At p = AQL alone the old table's wrong arrows next to the 0/1 diagonal pass (a 0/1
    plan with a small n accepts little at the AQL); they accept more than normal for
    worse lots (H at 0.65: 19 % against 9 % at 5 % nonconforming), so the whole curve
    from 0 to 20 x AQL is checked.
    """
    checked = 0
    for letter in "ABCDEFGHJKLMNPQR":
        for aql in AQLS:
            q = float(aql) / 100
            p = np.linspace(0.0, min(1.0, 20 * q) if q <= 0.10 else 20 * q, 201)
            n_n, ac_n, _ = _table_plan(letter, aql, "normal")
            n_t, ac_t, _ = _table_plan(letter, aql, "tightened")
            normal, tight = _pa(n_n, ac_n, p, aql), _pa(n_t, ac_t, p, aql)
            worst = int(np.argmax(tight - normal))
            assert tight[worst] <= normal[worst] + 1e-12, (letter, aql, p[worst], tight[worst], normal[worst])
            checked += 1
    assert checked == 16 * 26


def test_tightened_h_at_065_is_the_125_unit_plan() -> None:
    plan = sampling_plan(lot_size=400, level="II", aql=0.65, severity="tightened")
    assert (plan.code_letter, plan.plan_code_letter, plan.arrow) == ("H", "K", "down")
    assert (plan.table_sample_size, plan.acceptance_number, plan.rejection_number) == (125, 1, 2)
    normal = sampling_plan(lot_size=400, level="II", aql=0.65)
    assert (normal.table_sample_size, normal.acceptance_number) == (80, 1)
    pa_t = stats.binom.cdf(1, 125, 0.05)
    pa_n = stats.binom.cdf(1, 80, 0.05)
    assert pa_t == pytest.approx(0.0124, abs=5e-4) and pa_n == pytest.approx(0.0857, abs=5e-4)


# Table II-B, the cell right of each 0/1 plan (row A: AQL 10) and R at 0.015, as
# reproduced in MIL-STD-105E reprints (resolved plan: sample size, Ac, Re).
TIGHTENED_NEXT_TO_DIAGONAL = [
    ("A", "10", 8, 1, 2),
    ("B", "10", 8, 1, 2),
    ("C", "6.5", 13, 1, 2),
    ("D", "4.0", 20, 1, 2),
    ("E", "2.5", 32, 1, 2),
    ("F", "1.5", 50, 1, 2),
    ("G", "1.0", 80, 1, 2),
    ("H", "0.65", 125, 1, 2),
    ("J", "0.40", 200, 1, 2),
    ("K", "0.25", 315, 1, 2),
    ("L", "0.15", 500, 1, 2),
    ("M", "0.10", 800, 1, 2),
    ("N", "0.065", 1250, 1, 2),
    ("P", "0.040", 2000, 1, 2),
    ("Q", "0.025", 3150, 1, 2),
    ("R", "0.015", 1250, 0, 1),
    ("R", "0.010", 2000, 0, 1),
    ("A", "15", 5, 1, 2),
    ("A", "25", 3, 1, 2),
    ("A", "40", 2, 1, 2),
]


@pytest.mark.parametrize(("letter", "aql", "n", "ac", "re"), TIGHTENED_NEXT_TO_DIAGONAL)
def test_tightened_cells_next_to_the_zero_acceptance_diagonal(letter: str, aql: str, n: int, ac: int, re: int) -> None:
    assert _table_plan(letter, aql, "tightened") == (n, ac, re)


# Cells of Table II-C where the reduced plan accepts a lot (d < Re) less often than the
# normal plan at p = AQL. All are nonconformities-per-100-units AQLs; see
# docs/statistics.md (cells of Table II-C not confirmed by a second reproduction).
REDUCED_STRICTER_THAN_NORMAL = {
    *(("A", a) for a in ("100", "150", "250", "400", "650", "1000")),
    *(("B", a) for a in ("100", "150", "250", "400", "650", "1000")),
    *((letter, "1000") for letter in "CDEFGHJKLMNPQR"),
}


def test_reduced_accepts_a_lot_at_least_as_often_as_normal_at_the_aql() -> None:
    """Reduced inspection is by design more lenient: Pa(d < Re, reduced) >= Pa(normal) at the AQL.

    The exceptions are listed exactly, so any change to Table II-C shows up here.
    """
    stricter = set()
    for letter in "ABCDEFGHJKLMNPQR":
        for aql in AQLS:
            q = np.array([float(aql) / 100])
            n_n, ac_n, _ = _table_plan(letter, aql, "normal")
            n_r, _ac_r, re_r = _table_plan(letter, aql, "reduced")
            assert n_r <= n_n
            if _pa(n_r, re_r - 1, q, aql)[0] < _pa(n_n, ac_n, q, aql)[0] - 1e-12:
                stricter.add((letter, aql))
    assert stricter == REDUCED_STRICTER_THAN_NORMAL


def test_reduced_table_is_the_normal_layout_with_the_reduced_ac_re_series() -> None:
    """Table II-C has Table II-A's arrows and plan positions; each normal Ac/Re maps to one reduced pair."""
    pairs = dict(
        zip(
            ["0/1", "1/2", "2/3", "3/4", "5/6", "7/8", "10/11", "14/15", "21/22", "30/31", "44/45"],
            ["0/1", "0/2", "1/3", "1/4", "2/5", "3/6", "5/8", "7/10", "10/13", "14/17", "21/24"],
            strict=True,
        )
    )
    for letter, row in MASTER_TABLES["normal"].items():
        mapped = [pairs.get(cell, cell) for cell in row.split()]
        assert mapped == MASTER_TABLES["reduced"][letter].split(), letter


def test_plan_input_errors() -> None:
    for kwargs, field in (
        ({"lot_size": 1000, "aql": 0.3}, "aql"),
        ({"lot_size": 1000, "aql": "abc"}, "aql"),
        ({"lot_size": 1, "aql": 1.0}, "lot_size"),
        ({"lot_size": 1000.0, "aql": 1.0}, "lot_size"),
        ({"lot_size": 1000, "aql": 1.0, "level": "IV"}, "level"),
        ({"lot_size": 1000, "aql": 1.0, "severity": "strict"}, "severity"),
    ):
        with pytest.raises(StatsInputError) as err:
            z14_plan(**kwargs)
        assert err.value.field == field
    assert z14_plan(lot_size=1000, aql="1", level="s-2")["level"] == "S-2"


def run(machine: Z14Switching, defectives: list[int], lot: int = 1000, **kwargs: bool) -> list[dict]:
    return [machine.record_lot(lot_size=lot, defectives=d, **kwargs) for d in defectives]


def test_normal_to_tightened_after_two_of_five_rejected() -> None:
    m = Z14Switching(aql=1.0)  # J: n 80, Ac 2, Re 3
    out = run(m, [0, 3, 1, 0])
    assert [o["severity"] for o in out] == ["normal"] * 4
    out = run(m, [4])
    assert out[0]["severity"] == "tightened" and "8.3.1" in out[0]["reason"]
    m2 = Z14Switching(aql=1.0)
    out = run(m2, [3, 0, 0, 0, 0, 3])  # the two rejections are six lots apart
    assert out[-1]["severity"] == "normal"


def test_tightened_back_to_normal_after_five_accepted_in_a_row() -> None:
    m = Z14Switching(aql=1.0, severity="tightened")  # J tightened: Ac 1, Re 2
    out = run(m, [0, 1, 0, 2, 0, 0, 0, 1])
    assert all(o["severity"] == "tightened" for o in out)
    out = run(m, [0])
    assert out[0]["severity"] == "normal" and "8.3.2" in out[0]["reason"]
    assert m.switching_score == 0 and m.normal_results == []


def test_discontinue_after_five_lots_not_accepted_on_tightened() -> None:
    m = Z14Switching(aql=1.0, severity="tightened")
    out = run(m, [2, 0, 2, 3, 0, 0, 2, 0])
    assert [o["severity"] for o in out][-1] == "tightened"
    out = run(m, [2])
    assert out[0]["severity"] == "discontinued" and "8.4" in out[0]["reason"]
    with pytest.raises(StatsInputError):
        m.record_lot(lot_size=1000, defectives=0)
    assert m.resume()["severity"] == "tightened"


def test_switching_score_for_ac_two_or_more_and_switch_to_reduced() -> None:
    m = Z14Switching(aql=1.0)  # Ac 2; one step tighter (0.65) has Ac 1
    run(m, [1, 0, 1])
    assert m.switching_score == 9
    run(m, [2])  # accepted at 1.0 but not at 0.65: reset
    assert m.switching_score == 0
    out = run(m, [0] * 9, authority_approves_reduced=True)
    assert m.switching_score == 27 and out[-1]["severity"] == "normal"
    out = run(m, [0], authority_approves_reduced=False)
    assert m.switching_score == 30 and out[-1]["severity"] == "normal"
    out = run(m, [0], production_steady=False, authority_approves_reduced=True)
    assert out[-1]["severity"] == "normal"
    out = run(m, [0], authority_approves_reduced=True)
    assert out[-1]["severity"] == "reduced" and "8.3.3" in out[-1]["reason"]


def test_switching_score_for_ac_zero_or_one() -> None:
    m = Z14Switching(aql=0.40)  # lot 1000: J -> arrow down to K, n 125, Ac 1
    out = run(m, [1] * 14, authority_approves_reduced=True)
    assert m.switching_score == 28 and out[-1]["severity"] == "normal"
    out = run(m, [0], authority_approves_reduced=True)
    assert out[-1]["severity"] == "reduced"


def test_reduced_back_to_normal() -> None:
    m = Z14Switching(aql=1.0, severity="reduced")  # J reduced: n 32, Ac 1, Re 3
    out = run(m, [1, 0])
    assert [o["severity"] for o in out] == ["reduced", "reduced"]
    out = run(m, [2])
    assert out[0]["decision"] == "accept_reinstate_normal" and out[0]["accepted"]
    assert out[0]["severity"] == "normal" and "8.3.4 b" in out[0]["reason"]
    m = Z14Switching(aql=1.0, severity="reduced")
    assert run(m, [3])[0]["decision"] == "reject" and m.severity == "normal"
    m = Z14Switching(aql=1.0, severity="reduced")
    assert run(m, [0], production_steady=False)[0]["severity"] == "normal"
    m = Z14Switching(aql=1.0, severity="reduced")
    assert m.record_lot(lot_size=1000, defectives=0, other_conditions_require_normal=True)["severity"] == "normal"


def test_state_round_trips_through_json() -> None:
    lots = [0, 3, 0, 4, 0, 0, 1, 0, 0, 0, 0, 0]
    direct = Z14Switching(aql=1.0)
    expected = [direct.record_lot(lot_size=1000, defectives=d)["severity"] for d in lots]
    state = None
    got = []
    for d in lots:
        out = z14_switch(state=state, lot={"lot_size": 1000, "defectives": d}, aql=1.0)
        state = json.loads(json.dumps(out["state"]))
        got.append(out["severity"])
    assert got == expected
    assert "tightened" in got and got[-1] == "normal"
    with pytest.raises(StatsInputError) as err:
        z14_switch(state={"aql": "1.0", "bogus": 1}, lot={"lot_size": 10, "defectives": 0})
    assert err.value.field == "state"
