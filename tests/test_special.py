"""Mail that another procedure governs (Woo, AVG, bezwaar, ingebrekestelling) and mail that reports
danger, on hand-written examples by three writers: `fixtures/special/dev` (the rules were written
against it), `fixtures/special/check` (written without seeing the first set; measured before the
rules were tuned on it too) and `fixtures/special/unseen` (measured as it came, never tuned on;
see the README). Every example whose detection differs from its label is listed below with why,
so that a change that loses or gains one is seen."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from triage.addresses import OwnAddresses
from triage.reasons import Code, reason
from triage.stages.forwards import resolve
from triage.stages.parse import parse
from triage.stages.special import Danger, Procedure, detect
from triage.web.words import dutch

SPECIAL = Path(__file__).parent / "fixtures" / "special"

# file -> why the rules get it wrong (label: what a person would say)
KNOWN_MISSES = {
    "dev/049-peuter-alleen-geluidsoverlast.eml": "a toddler alone, told as a story about noise (urgent)",
    "dev/057-hoe-woo-verzoek.eml": "asks how a Woo request works; the rules see 'Woo-verzoek' (none)",
    "dev/060-levensgevaarlijk-humeur.eml": "'levensgevaarlijk' as a figure of speech (not urgent)",
    "dev/069-woo-afgewezen-bejegening.eml": "a complaint that says it is no Woo request (none)",
    "dev/070-zie-het-niet-meer-zitten-wasmachine.eml": "'ik zie het niet meer zitten' about a washing machine",
    "dev/077-afsluiting-beademing.eml": "power cut for a child on a ventilator, in no danger words (urgent)",
    "check/016-hoe-werkt-woo.eml": "asks how the Woo works (none)",
    "check/046-vingerafdruk-sportschool.eml": "'ik maak bezwaar' against processing: an AVG objection, read as bezwaar",
    "check/051-notulen-openbaar.eml": "asks where public minutes are (none)",
    # a third writer's set, measured as it came (the rules were not tuned on it)
    "unseen/002-wat-weten-jullie.eml": "asks what is recorded about the writer, in words of their own (avg)",
    "unseen/005-wil-niet-meer.eml": "suicidal thoughts in everyday words (urgent)",
    "unseen/008-threat-balie.eml": "a threat against staff in a forward, in words of its own (urgent)",
    "unseen/020-dossier-inzage-school.eml": "a copy of a school file and a correction, the law not named (avg)",
    "unseen/021-hond-los.eml": "a dangerous dog loose in a playground (urgent)",
    "unseen/029-dijkstukken.eml": "documents asked of a public body, the law not named (woo)",
    "unseen/032-ceiling-english.eml": "a ceiling coming down near wiring (urgent)",
    "unseen/033-wat-is-woo.eml": "asks what the Woo is (none)",
    "unseen/034-vader-blauwe-plekken.eml": "suspected abuse of an elderly father by a carer (urgent)",
    "unseen/035-selfharm-english.eml": "self-harm in words of its own, through a web form (urgent)",
    "unseen/036-stopcontact-brand.eml": "an electrical fire hazard at a day nursery (urgent)",
    "unseen/037-bezwaar-forward.eml": "an objection in a forward that never says bezwaar (bezwaar)",
    "unseen/040-woo-boos-traag.eml": "documents asked, the law not named (woo)",
    "unseen/041-correctie-naam.eml": "a correction of the writer's name (avg)",
    "unseen/042-stop-marketing.eml": "'bezwaar' against marketing use of data: an AVG objection, read as none",
    "unseen/046-bezwaar-qp.eml": "a clumsy objection, unsure of the word (bezwaar)",
}


def _examples() -> list[tuple[str, dict[str, str]]]:
    out = []
    for folder in ("dev", "check", "unseen"):
        with (SPECIAL / folder / "labels.csv").open(encoding="utf-8") as handle:
            out += [(f"{folder}/{row['file']}", row) for row in csv.DictReader(handle)]
    return out


EXAMPLES = _examples()


def _detect(name: str) -> tuple[str, str]:
    resolved = resolve(parse((SPECIAL / name).read_bytes()), OwnAddresses(frozenset(), frozenset()))
    found = detect(resolved.subject, resolved.text)
    return (found.procedure.value if found.procedure else "none"), ("yes" if found.danger else "no")


@pytest.mark.parametrize(("name", "row"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_each_example_is_detected_as_labelled_or_is_a_known_miss(name: str, row: dict[str, str]) -> None:
    got = _detect(name)
    if name in KNOWN_MISSES:
        assert got != (row["special"], row["urgent"]), f"{name} is detected right now: remove it from KNOWN_MISSES"
    else:
        assert got == (row["special"], row["urgent"]), row["note"]


def test_the_examples_cover_every_procedure_and_danger_also_as_complaints() -> None:
    rows = [row for _, row in EXAMPLES]
    for procedure in Procedure:
        kinds = {row["kind"] for row in rows if row["special"] == procedure.value}
        assert kinds == {"complaint", "question"}, procedure
    assert sum(row["urgent"] == "yes" and row["kind"] == "complaint" for row in rows) >= 5
    assert sum(row["special"] == "none" and row["urgent"] == "no" for row in rows) >= 30  # near misses


@pytest.mark.parametrize(("text", "procedure", "danger"), [
    ("Hierbij dien ik een verzoek in op grond van de Woo om alle stukken over de kap.", Procedure.WOO, None),
    ("Ik verzoek om inzage in mijn persoonsgegevens (artikel 15 AVG).", Procedure.AVG, None),
    ("Please delete all my personal data.", Procedure.AVG, None),
    ("Hierbij maak ik bezwaar tegen het besluit van 3 maart, kenmerk 2026-114.", Procedure.BEZWAAR, None),
    ("Ik heb er bezwaar tegen dat de medewerker zo tegen mij praatte.", None, None),
    ("Bij deze stel ik u in gebreke wegens het niet tijdig beslissen op mijn aanvraag.", Procedure.INGEBREKESTELLING,
     None),
    ("Wij zullen de gemeente separaat in gebreke stellen.", None, None),
    ("Ik ruik al twee dagen gas in het trappenhuis.", None, Danger.HAZARD),
    ("Ik wil niet meer leven als dit zo doorgaat.", None, Danger.SELF_HARM),
    ("Als die handhaver nog één keer komt dan gebeuren er ongelukken.", None, Danger.THREAT),
    ("I'm dying to know when my parcel arrives.", None, None),
    ("Mijn bestelling is te laat en de verpakking was kapot.", None, None),
])
def test_phrases(text: str, procedure: Procedure | None, danger: Danger | None) -> None:
    found = detect("", text)
    assert (found.procedure, found.danger) == (procedure, danger)
    assert bool(found) == (procedure is not None or danger is not None)


def test_the_review_label_names_the_procedure_its_term_and_its_date_in_dutch() -> None:
    label = dutch(reason(Code.OTHER_PROCEDURE, procedure="woo", words="Woo-verzoek", term="4 weeks",
                         due="2027-01-05"))
    assert label == ("Woo-verzoek (Wet open overheid): geen klacht: besluit binnen 4 weken (Woo art. 4.4), "
                     "uiterlijk dinsdag 5 januari 2027; zet het door naar wie Woo-verzoeken behandelt "
                     "(herkend aan “Woo-verzoek”)")
    assert "Awb art. 6:15" in dutch(reason(Code.OTHER_PROCEDURE, procedure="bezwaar", words="bezwaarschrift",
                                           term="1 working day", due="2027-01-05"))
    assert dutch(reason(Code.DANGER, danger="self_harm", words="zelfmoord")).startswith(
        "SPOED: meldt zelfdoding of zelfbeschadiging")


def test_only_the_head_of_a_huge_text_is_read() -> None:
    assert not detect("", "bla " * 2_000_000 + "ingebrekestelling")  # past the window
    assert detect("", "ingebrekestelling " + "bla " * 2_000_000).procedure is Procedure.INGEBREKESTELLING


def test_the_words_found_are_quoted_as_written() -> None:
    found = detect("WOO-VERZOEK kapvergunning", "Graag alle stukken.")
    assert found.procedure is Procedure.WOO and found.procedure_words == "WOO-VERZOEK"
    # 'İ' is two characters lower-cased: the words are then quoted lower-cased
    assert detect("", "İstanbul. Ik ruik GAS in de gang.").danger_words == "ruik gas"
