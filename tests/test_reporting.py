"""The yearly report's figures against a hand-made set of 26 cases of 2026 whose counts, medians and
shares were worked out by hand (in the comments); the small-number rule; merged cases; an empty
period; growth against the previous period; themes that never name a complainant."""

from __future__ import annotations

from datetime import date

from triage import report_charts, reporting
from triage.report_words import name_parts, themes, words
from triage.reporting import Row

START, END = date(2026, 1, 1), date(2027, 1, 1)
PIET = ("jansen", "piet")  # a complainant's name parts: "Piet Jansen <piet@example.nl>"
WAIT = "De wachttijd aan de telefoon was lang."
PERMIT = "Mijn parkeervergunning is nog steeds niet verwerkt."
SIGNED = "\nMet vriendelijke groet,\nPiet Jansen\npiet@example.nl\nKerkstraat 12, 2026 AB"
RUDE = "De medewerker was onbeschoft."


def formal(received: str, done: str | None, on_time: bool | None, status: str, text: str = "", **kw: object) -> Row:
    return Row(date.fromisoformat(received), "complaint", "service", "formal", status, "6 weeks", None,
               date.fromisoformat(done) if done else None, on_time, text=text, **kw)  # type: ignore[arg-type]


def informal(received: str, done: str | None, on_time: bool | None, status: str, topic: str, text: str = "",
             **kw: object) -> Row:
    return Row(date.fromisoformat(received), "complaint", topic, "informal", status, "10 working days", None,
               date.fromisoformat(done) if done else None, on_time, text=text, **kw)  # type: ignore[arg-type]


def question(received: str, done: str | None, on_time: bool | None, status: str, topic: str, text: str = "",
             **kw: object) -> Row:
    return Row(date.fromisoformat(received), "question", topic, None, status, "5 working days", None,
               date.fromisoformat(done) if done else None, on_time, text=text, **kw)  # type: ignore[arg-type]


CASES = [
    # Formal complaints about the service (8). Ended: F1-F6, handling days 7, 21, 42, 70, 84, 14:
    # sorted 7 14 21 42 70 84, median (21 + 42) / 2 = 31.5; on time 4 of 6 = 67%.
    formal("2026-01-05", "2026-01-12", True, "answered", WAIT + SIGNED, names=PIET,
           who="piet@example.nl"),  # F1: 7 days
    formal("2026-01-20", "2026-02-10", True, "answered", WAIT + SIGNED, names=PIET),  # F2: 21
    formal("2026-02-02", "2026-03-16", True, "answered", WAIT + PERMIT + SIGNED, names=PIET),  # F3: 42
    formal("2026-02-16", "2026-04-27", False, "answered", WAIT + PERMIT + SIGNED, extensions=1, names=PIET),  # F4: 70
    formal("2026-03-02", "2026-05-25", False, "answered", WAIT + PERMIT + SIGNED, extensions=1, names=PIET),  # F5: 84
    formal("2026-03-09", "2026-03-23", True, "resolved", WAIT + PERMIT + " storing storing storing"),  # F6: 14
    formal("2026-04-01", None, None, "in_progress", PERMIT + " storing storing loket", urgent=True),  # F7 open
    formal("2026-04-15", None, None, "new", "storing loket loket"),  # F8 open
    # Informal complaints (9 counted + 1 merged). Ended: I1-I5, I7-I9, days 2, 7, 8, 14, 27, 2, 14, 5:
    # sorted 2 2 5 7 8 14 14 27, median (7 + 8) / 2 = 7.5; on time known for I1-I5: 4 of 5 = 80%.
    informal("2026-01-07", "2026-01-09", True, "resolved", "product"),  # I1: 2
    informal("2026-01-14", "2026-01-21", True, "resolved", "product"),  # I2: 7
    informal("2026-02-04", "2026-02-12", True, "answered", "product"),  # I3: 8
    informal("2026-05-06", "2026-05-20", True, "answered", "product"),  # I4: 14
    informal("2026-06-03", "2026-06-30", False, "answered", "product"),  # I5: 27
    informal("2026-06-10", None, None, "in_progress", "product"),  # I6 open
    informal("2026-07-01", "2026-07-03", None, "withdrawn", "staff", RUDE),  # I7: 2
    informal("2026-07-08", "2026-07-22", None, "not_handled", "staff", RUDE),  # I8: 14
    informal("2026-08-05", "2026-08-10", None, "forwarded", "staff", RUDE),  # I9: 5
    informal("2026-09-02", None, None, "merged", "staff", RUDE),  # I10: merged, counted in the case it joined
    # Questions (7). Ended: Q1-Q4, Q7, days 1, 2, 7, 17, 1: sorted 1 1 2 7 17, median 2; on time
    # known for Q1-Q4 only: 3 of 4, fewer than 5, so no share.
    question("2026-01-08", "2026-01-09", True, "question_answered", "service", WAIT),  # Q1: 1
    question("2026-03-10", "2026-03-12", True, "question_answered", "service", "Over de parkeervergunning."),  # Q2
    question("2026-10-06", "2026-10-13", True, "question_answered", "service"),  # Q3: 7
    question("2026-11-03", "2026-11-20", False, "question_answered", "service"),  # Q4: 17
    question("2026-11-10", None, None, "new", "product"),  # Q5 open
    question("2026-12-01", None, None, "new", "product", other_procedure="woo"),  # Q6 open
    question("2026-12-02", "2026-12-03", None, "not_a_complaint", "staff", RUDE),  # Q7: 1
    # Not classified yet (1)
    Row(date(2026, 12, 3), None, None, None, "needs_review"),
]
# The previous year: complaints about the service 5, products 8, staff 1 (and 1 merged, not counted).
PREVIOUS = ([formal("2025-03-01", None, None, "answered")] * 5 + [informal("2025-04-01", None, None, "answered",
            "product")] * 8 + [informal("2025-05-01", None, None, "answered", "staff"),
                               informal("2025-05-02", None, None, "merged", "staff")])


def test_counts_by_class_topic_and_month() -> None:
    f = reporting.figures(CASES, START, END, PREVIOUS)
    # 8 formal + 9 informal (I10 merged) + 7 questions + 1 unclassified
    assert (f.total, f.complaints, f.questions, f.unclassified) == (25, 17, 7, 1)
    assert f.by_topic["service"] == {"formal": 8, "informal": 0, "question": 4}
    assert f.by_topic["product"] == {"formal": 0, "informal": 6, "question": 2}
    assert f.by_topic["staff"] == {"formal": 0, "informal": 3, "question": 1}
    assert f.by_topic[None] == {"formal": 0, "informal": 0, "question": 0}
    # Jan F1 F2 I1 I2 + Q1; Feb F3 F4 I3; Mar F5 F6 + Q2; Apr F7 F8; May I4; Jun I5 I6; Jul I7 I8;
    # Aug I9; Sep only the merged I10; Oct Q3; Nov Q4 Q5; Dec Q6 Q7 (and the unclassified one)
    assert [(m.month, c, q) for m, c, q in f.by_month] == [
        (1, 4, 1), (2, 3, 0), (3, 2, 1), (4, 2, 0), (5, 1, 0), (6, 2, 0), (7, 2, 0), (8, 1, 0), (9, 0, 0),
        (10, 0, 1), (11, 0, 2), (12, 0, 2)]
    assert (f.extended, f.urgent, f.other_procedures) == (2, 1, 1)


def test_handling_time_medians_and_on_time_shares() -> None:
    f = reporting.figures(CASES, START, END)
    by = {h.klass: h for h in f.handling}
    assert (by["formal"].ended, by["formal"].median, by["formal"].share) == (6, "31,5 dagen", "67%")
    assert by["formal"].term == "6 weeks"
    assert (by["informal"].ended, by["informal"].median, by["informal"].share) == (8, "7,5 dagen", "80%")
    assert (by["question"].ended, by["question"].median) == (5, "2 dagen")
    assert (by["question"].on_time, by["question"].judged, by["question"].share) == (3, 4, "–")  # fewer than 5
    # all 19 ended: 1 1 2 2 2 5 7 7 7 [8] 14 14 14 17 21 27 42 70 84; on time 11 of 15 = 73%
    assert (by["all"].ended, by["all"].median, by["all"].share) == (19, "8 dagen", "73%")
    # within a week 1 1 2 2 2 5 7 7 7; 1-2 weeks 8 14 14 14; 2-4: 17 21 27; 4-6: 42; 6-10: 70; more: 84
    assert [n for _label, n in f.buckets] == [9, 4, 3, 1, 1, 1]


def test_endings_and_what_is_still_open() -> None:
    f = reporting.figures(CASES, START, END)
    assert f.endings == {"answered": 8, "resolved": 3, "not_handled": 1, "forwarded": 1, "withdrawn": 1,
                         "question_answered": 4, "not_a_complaint": 1}
    assert f.still_open == 6  # F7 F8 I6 Q5 Q6 and the unclassified one
    assert sum(f.endings.values()) + f.still_open == f.total


def test_the_topics_that_grew_against_the_previous_period() -> None:
    f = reporting.figures(CASES, START, END, PREVIOUS)
    # service 5 -> 8 (+3, +60%), staff 1 -> 3 (+2; too few before for a percentage); product 8 -> 6 fell
    assert [(g.topic, g.now, g.before, g.change) for g in f.growth] == [("service", 8, 5, "+60%"),
                                                                       ("staff", 3, 1, "")]


def test_small_numbers_are_hidden_everywhere_by_one_rule() -> None:
    assert [reporting.shown(n) for n in (0, 1, 4, 5, 1234)] == ["0", "< 5", "< 5", "5", "1.234"]
    assert (reporting.percent(4, 4), reporting.percent(4, 5)) == ("–", "80%")
    assert (reporting.days([3, 4, 5, 6]), reporting.days([3, 4, 5, 6, 7])) == ("–", "5 dagen")
    chart = report_charts.columns("c", "Per maand", [("jan", [report_charts.Bar("Klachten", 3, 0)]),
                                                     ("feb", [report_charts.Bar("Klachten", 7, 0)])])
    assert "&lt; 5" in chart and ">3<" not in chart and ">7<" in chart
    assert 'stroke-dasharray' in chart  # the small bar is an outline up to 5, not its own height


def test_a_merged_case_is_counted_once_in_the_case_it_joined() -> None:
    merged = [informal("2026-09-02", None, None, "merged", "staff")] * 3
    assert reporting.figures(CASES + merged, START, END).total == 25
    alone = reporting.figures(merged, START, END)
    assert (alone.total, alone.complaints, alone.by_topic["staff"]["informal"]) == (0, 0, 0)


def test_an_empty_period() -> None:
    f = reporting.figures([], START, END)
    assert f.empty and f.total == 0 and len(f.by_month) == 12
    assert all(h.median == "–" and h.share == "–" for h in f.handling)
    assert f.themes == {} and f.growth == [] and sum(f.endings.values()) == 0
    assert [m.isoformat() for m in reporting.months(date(2025, 11, 15), date(2026, 2, 1))] == [
        "2025-11-01", "2025-12-01", "2026-01-01"]


def test_themes_name_no_complainant_and_need_five_cases() -> None:
    f = reporting.figures(CASES, START, END)
    # wachttijd, telefoon, lang: F1-F6 + Q1; parkeervergunning: F3-F7 + Q2; verwerkt: F3-F7
    assert f.themes["service"] == [("lang", 7), ("telefoon", 7), ("wachttijd", 7), ("parkeervergunning", 6),
                                   ("verwerkt", 5)]
    everything = {w for found in f.themes.values() for w, _n in found}
    # a name part, an address, a street and postcode with digits, a word of 4 cases, repeats within a case
    assert everything.isdisjoint({"piet", "jansen", "example", "piet@example.nl", "kerkstraat", "storing", "loket"})
    # "onbeschoft": I7 I8 I9 Q7 = 4 counted cases; the merged I10 would have made it 5
    assert "staff" not in f.themes


def test_the_words_of_one_text() -> None:
    assert words("Mail a.b@c.nl of www.x.nl: 12x de WACHTTIJD, kapot-gemaakt\nGroet, Ina Bos") == {
        "wachttijd", "kapot-gemaakt"}
    assert words("Ik woon aan de Kerkstraat 12a in Lindendal") == {"woon", "lindendal"}
    assert name_parts("Karin van der Smit", "k.smit@example.nl") == {"karin", "van", "der", "smit", "k"}
    texts = [("service", f"Klacht van Karin Smit over de afvalbak, nummer {i}", f"klager{i}") for i in range(5)]
    assert themes(texts, {"karin", "smit"}) == {"service": [("afvalbak", 5)]}
    # five cases of one complainant (or four people) are no theme: it would point at them
    assert themes([(t, text, "karin@example.nl") for t, text, _who in texts], set()) == {}
    assert themes(texts[:4] + [("service", texts[4][1], "klager0")], set()) == {}
