"""Mail from our own domain speaks for us only when verified: a staff forward is unwrapped, and a
Reply-To followed, only on the receiving server's Authentication-Results (our authserv-id, DMARC or
DKIM pass for our exact domain) or for a listed colleague when the server enforces DMARC."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from conftest import ROOT

from triage.addresses import OwnAddresses
from triage.domain import Disposition, Mail
from triage.pipeline import Context, process_many
from triage.reasons import Code, reason
from triage.stages.authenticity import authenticated
from triage.stages.forwards import resolve
from triage.stages.parse import parse
from triage.training import registry

OURS = "mx1.debrug.example"
OWN = OwnAddresses(frozenset({"klachten@debrug.example"}), frozenset({"debrug.example"}),
                   authserv_ids=frozenset({OURS}))
STAFF = replace(OWN, staff=frozenset({"m.dekker@debrug.example"}), dmarc_enforced=True)

FORWARD = """\
Graag oppakken, deze mevrouw wacht al lang.

-----Oorspronkelijk bericht-----
Van: Petra van Dijk <petra.vandijk@ziggo.example>
Verzonden: maandag 2 november 2026 10:12
Aan: klachten@debrug.example
Onderwerp: Lekkage badkamer Merelstraat 9

Goedemorgen,

Al drie weken lekt het plafond van onze badkamer als de buren boven douchen. Ik heb twee keer
gebeld en er is niemand komen kijken. Er zit nu schimmel op het plafond.

Met vriendelijke groet,
Petra van Dijk
"""

COMPLAINT = """\
Beste mensen,

De lift in flat Esdoorn staat al sinds vrijdag stil. Mijn moeder van 84 kan de deur niet uit.

Groet,
Hans
"""


def _raw(sender: str, *, headers: tuple[str, ...] = (), subject: str = "FW: Lekkage badkamer Merelstraat 9",
         body: str = FORWARD, extra: str = "") -> bytes:
    """A message as it sits in the mailbox: our server's headers (`headers`, topmost first) on top."""
    top = "".join(f"Authentication-Results: {h}\n" for h in headers)
    return (f"{top}Received: from smtp.example.net by {OURS} (Postfix) with ESMTPS id 4Xk9Lm2;"
            " Mon, 2 Nov 2026 11:02:13 +0100\n"
            f"From: {sender}\nTo: klachten@debrug.example\nSubject: {subject}\n"
            "Date: Mon, 2 Nov 2026 11:02:10 +0100\nMessage-ID: <a81c3e@mail.example.net>\n"
            f"{extra}MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n{body}").encode()


def _mail(sender: str, **kwargs: str | tuple[str, ...]) -> Mail:
    return parse(_raw(sender, **kwargs))  # type: ignore[arg-type]


FORGER = "Klantenservice De Brug <service@debrug.example>"
DMARC_PASS = f"{OURS}; dmarc=pass (p=reject dis=none) header.from=debrug.example"
DMARC_FAIL = f"{OURS}; dmarc=fail (p=none dis=none) header.from=debrug.example"


@pytest.mark.parametrize(
    "headers",
    [
        (DMARC_FAIL,),  # our server says the forwarder is forged
        (),  # no verdict at all
        ("mx.attacker.example; dmarc=pass header.from=debrug.example",),  # another server's verdict
        (f"{OURS.upper()}x; dkim=pass header.d=debrug.example",),  # an id that only looks like ours
        (DMARC_FAIL, DMARC_PASS),  # the sender's own claim under our id, below our server's verdict
        (DMARC_FAIL, f"{OURS}; dkim=pass header.d=debrug.example"),  # a DKIM pass does not undo a failed DMARC
        (f"{OURS}; dkim=fail (bad signature) header.d=debrug.example", f"{OURS}; dkim=pass header.d=debrug.example"),
        (f"{OURS}; dkim=pass header.d=attacker.example",),  # signed, but by another domain
        (f"{OURS}; dmarc=pass", ),  # no header.from: it says nothing of our domain
        (f"{OURS}; ((broken", DMARC_PASS),  # ours but unreadable: what lies below is not trusted
        ("spf=pass smtp.mailfrom=debrug.example; dkim=pass header.d=debrug.example;"
         "dmarc=pass header.from=debrug.example",),  # Microsoft 365 writes no authserv-id
        (f"=?us-ascii?q?{OURS}=3B_dmarc=3Dpass_header.from=3Ddebrug.example?=",),  # no server encodes its own
        ("mx.attacker.example; none", DMARC_PASS),  # another id on top ends the run: ours lie above all others
        ("spf=pass smtp.mailfrom=debrug.example", DMARC_PASS),  # so does one without an authserv-id
    ],
    ids=["dmarc-fail", "no-header", "foreign-authserv-id", "look-alike-id", "forged-pass-below-ours",
         "dkim-below-failed-dmarc", "dkim-fail-on-top", "dkim-other-domain", "dmarc-without-domain",
         "unreadable-ours-on-top", "no-authserv-id", "rfc2047-encoded", "foreign-on-top", "no-id-on-top"],
)
def test_a_forward_from_our_domain_without_our_servers_pass_is_filed_as_it_stands(headers: tuple[str, ...]) -> None:
    mail = _mail(FORGER, headers=headers)
    assert authenticated(mail, OWN) == ""
    resolved = resolve(mail, OWN)
    assert resolved.complainant is None, "nothing may go to the person the forward names"
    assert resolved.forwarded_by is None and resolved.forward is not None
    assert resolved.why is not None and resolved.why.code == Code.FORWARD_UNVERIFIED
    assert resolved.needs_review
    assert "Graag oppakken" in resolved.text and resolved.subject.startswith("FW: "), "filed as it stands"


@pytest.mark.parametrize(
    ("headers", "how"),
    [
        ((DMARC_PASS,), "dmarc"),
        ((f"{OURS}; dkim=pass (2048-bit key) header.d=debrug.example header.s=sel1 header.b=Ab12; spf=pass "
          "smtp.mailfrom=debrug.example",), "dkim"),
        ((f"{OURS}; dkim=pass header.i=@debrug.example header.s=google",), "dkim"),  # Gmail writes header.i only
        ((f"{OURS}; spf=pass smtp.mailfrom=m.dekker@debrug.example", DMARC_PASS), "dmarc"),  # two headers of ours
        ((DMARC_PASS, DMARC_FAIL), "dmarc"),  # what the sender wrote below ours does not count either way
        ((f"{OURS};\n\tdkim=pass header.d=debrug.example header.s=sel1;\n\tdmarc=pass (p=reject dis=none)\n"
          "\theader.from=debrug.example",), "dmarc"),  # folded over lines, as servers write it
        ((DMARC_PASS, "mx.attacker.example; dmarc=fail header.from=debrug.example"), "dmarc"),
    ],
    ids=["dmarc-pass", "dkim-pass", "dkim-header-i", "dmarc-in-second-header", "ours-on-top-decides", "folded",
         "foreign-below-ours"],
)
def test_a_forward_our_server_verified_is_answered_to_the_original_sender(headers: tuple[str, ...], how: str) -> None:
    mail = _mail("Marieke Dekker <m.dekker@debrug.example>", headers=headers)
    assert authenticated(mail, OWN) == how
    resolved = resolve(mail, OWN)
    assert resolved.complainant is not None and resolved.complainant.addr == "petra.vandijk@ziggo.example"
    assert resolved.forwarded_by is not None and resolved.forwarded_by.addr == "m.dekker@debrug.example"
    assert not resolved.needs_review
    assert resolved.subject == "Lekkage badkamer Merelstraat 9" and "Graag oppakken" not in resolved.text


def test_a_sub_domain_is_not_ours_unless_listed() -> None:
    """DMARC passed, but for the sub-domain: the forward is not unwrapped (and, being of a domain
    under ours, nobody is answered)."""
    sub = f"{OURS}; dkim=pass header.d=nieuws.debrug.example; dmarc=pass header.from=nieuws.debrug.example"
    mail = _mail("Nieuwsbrief <redactie@nieuws.debrug.example>", headers=(sub,))
    assert authenticated(mail, OWN) == ""
    resolved = resolve(mail, OWN)
    assert resolved.complainant is None and resolved.why is not None
    assert resolved.why.code == Code.FORWARD_UNVERIFIED
    listed = replace(OWN, domains=frozenset({"debrug.example", "nieuws.debrug.example"}))
    assert authenticated(mail, listed) == "dmarc"
    assert resolve(mail, listed).complainant == resolve(mail, listed).forward.sender  # type: ignore[union-attr]


def test_a_listed_colleague_is_trusted_only_where_the_server_enforces_dmarc() -> None:
    mail = _mail("Marieke Dekker <m.dekker@debrug.example>")  # internal mail: no Authentication-Results
    assert authenticated(mail, STAFF) == "staff"
    resolved = resolve(mail, STAFF)
    assert resolved.complainant is not None and resolved.complainant.addr == "petra.vandijk@ziggo.example"
    assert authenticated(mail, replace(STAFF, dmarc_enforced=False)) == ""
    assert authenticated(_mail("S. de Vries <s.devries@debrug.example>"), STAFF) == "", "only the exact addresses"
    assert authenticated(_mail("Marieke Dekker <m.dekker@debrug.example>", headers=(DMARC_FAIL,)), STAFF) == "", \
        "our server's failed DMARC outweighs the list"


def _reply_to(sender: str, reply_to: str, headers: tuple[str, ...] = (), own: OwnAddresses = OWN):  # type: ignore[no-untyped-def]
    return resolve(_mail(sender, headers=headers, subject="Lift kapot", body=COMPLAINT,
                         extra=f"Reply-To: {reply_to}\n"), own)


def test_an_outsiders_reply_to_is_not_followed() -> None:
    resolved = _reply_to("Hans Ouwehand <h.ouwehand@kpnmail.example>", "Slachtoffer <iemand@gmail.example>")
    assert resolved.complainant is not None and resolved.complainant.addr == "h.ouwehand@kpnmail.example"
    assert resolved.why is not None and resolved.why.code == Code.REPLY_TO_IGNORED
    assert resolved.why.params == {"address": "iemand@gmail.example"} and not resolved.needs_review


def test_a_website_forms_reply_to_is_followed() -> None:
    resolved = _reply_to("Formulierenservice <no-reply@formulieren.example>",
                         "Hans Ouwehand <h.ouwehand@kpnmail.example>")
    assert resolved.complainant is not None and resolved.complainant.addr == "h.ouwehand@kpnmail.example"
    assert resolved.why is not None and resolved.why.code == Code.REPLY_TO


def test_our_own_forms_reply_to_is_followed_only_when_verified() -> None:
    form, citizen = "Website De Brug <noreply@debrug.example>", "Hans Ouwehand <h.ouwehand@kpnmail.example>"
    forged = _reply_to(form, citizen)
    assert forged.complainant is None and forged.why is not None and forged.why.code == Code.REPLY_TO_UNVERIFIED
    assert forged.needs_review
    genuine = _reply_to(form, citizen, headers=(DMARC_PASS,))
    assert genuine.complainant is not None and genuine.complainant.addr == "h.ouwehand@kpnmail.example"
    colleague = _reply_to("Marieke Dekker <m.dekker@debrug.example>", citizen, own=STAFF)  # on a citizen's behalf
    assert colleague.complainant is not None and colleague.complainant.addr == "h.ouwehand@kpnmail.example"


@pytest.mark.parametrize(
    "extra",
    ["Reply-To: Hans <h.ouwehand@kpnmail.example>, Buurman <buurman@gmail.example>\n",
     "Reply-To: h.ouwehand@kpnmail.example\nReply-To: buurman@gmail.example\n"],
    ids=["one-field", "two-fields"],
)
def test_several_reply_to_addresses_go_to_review_and_nobody_is_answered(extra: str) -> None:
    for sender, headers in (("Formulierenservice <no-reply@formulieren.example>", ()),
                            ("Website De Brug <noreply@debrug.example>", (DMARC_PASS,)),
                            ("Hans Ouwehand <h.ouwehand@kpnmail.example>", ())):
        resolved = resolve(_mail(sender, headers=headers, subject="Lift kapot", body=COMPLAINT, extra=extra), OWN)
        assert resolved.complainant is None, sender
        assert resolved.why is not None and resolved.why.code == Code.REPLY_TO_SEVERAL and resolved.needs_review


def test_a_reply_to_equal_to_the_sender_changes_nothing() -> None:
    resolved = _reply_to("Hans Ouwehand <h.ouwehand@kpnmail.example>", "H. Ouwehand <H.Ouwehand@kpnmail.example>")
    assert resolved.complainant is not None and resolved.complainant.addr == "h.ouwehand@kpnmail.example"
    assert resolved.why is None


def test_doubt_about_whom_to_answer_sends_even_a_sure_case_to_review() -> None:
    """With every head sure (thresholds at zero), an unverified forward and several Reply-To
    addresses still go to a person; an outsider's ignored Reply-To does not."""
    sure = replace(registry.load(ROOT / "models"), thresholds={"kind": 0.0, "topic": 0.0, "formality": 0.0})
    ctx = Context(own=OWN, reference_prefix="KL", find_case=lambda ref: None, classifier=sure)
    forged, several, ignored, genuine = process_many([
        _raw(FORGER, headers=(DMARC_FAIL,)),
        _raw("Hans Ouwehand <h.ouwehand@kpnmail.example>", subject="Lift kapot", body=COMPLAINT,
             extra="Reply-To: h.ouwehand@kpnmail.example, buurman@gmail.example\n"),
        _raw("Hans Ouwehand <h.ouwehand@kpnmail.example>", subject="Lift kapot", body=COMPLAINT,
             extra="Reply-To: buurman@gmail.example\n"),
        _raw("Marieke Dekker <m.dekker@debrug.example>", headers=(DMARC_PASS,)),
    ], ctx)
    assert forged.disposition == Disposition.REVIEW
    assert reason(Code.NOBODY_TO_ANSWER, cause="forward_unverified") in forged.reasons
    assert several.disposition == Disposition.REVIEW
    assert reason(Code.NOBODY_TO_ANSWER, cause="reply_to_several") in several.reasons
    assert ignored.disposition == Disposition.FILED and genuine.disposition == Disposition.FILED


def test_a_flood_of_headers_under_our_id_is_cut_short() -> None:
    """A sender cannot stall the stage with a hundred long headers under our id: only the first
    few, of a server's length, are read; a passing verdict below them counts for nothing."""
    flood = tuple(f"{OURS}; " + "; ".join(["dkim=neutral header.d=spam.example"] * 60) for _ in range(120))
    mail = _mail(FORGER, headers=(f"{OURS}; spf=none smtp.mailfrom=debrug.example", *flood, DMARC_PASS))
    started = time.perf_counter()
    assert authenticated(mail, OWN) == ""
    assert time.perf_counter() - started < 2.0
    long_pass = f"{OURS}; dkim=pass ({'x' * 3000}) header.d=debrug.example"
    assert authenticated(_mail(FORGER, headers=(long_pass,)), OWN) == ""


FIXTURES = ROOT / "tests" / "fixtures" / "trust"
LINDENDAL = OwnAddresses(frozenset({"klachten@lindendal.example"}), frozenset({"lindendal.example"}),
                         authserv_ids=frozenset({"mx.lindendal.example"}), dmarc_enforced=True,
                         staff=frozenset({"j.vermeulen@lindendal.example", "a.degroot@lindendal.example"}))
LINDENDAL_PASS = (b"Authentication-Results: mx.lindendal.example; dkim=pass header.d=lindendal.example;\n"
                  b"\tdmarc=pass (p=reject dis=none) header.from=lindendal.example\n")


@pytest.mark.parametrize("top", [b"", LINDENDAL_PASS], ids=["no-header", "our-servers-pass"])
@pytest.mark.parametrize("name", ["two-from-addresses.eml", "two-from-fields.eml"])
def test_a_message_with_several_from_addresses_trusts_nobody_and_waits_for_a_person(name: str, top: bytes) -> None:
    """`From: colleague, mallory` or two From fields: whose message did DMARC check? Neither the
    staff list nor our server's verdict vouches for the colleague named first."""
    mail = parse(top + (FIXTURES / name).read_bytes())
    assert mail.sender is not None and mail.sender.addr in LINDENDAL.staff and mail.from_count == 2
    assert authenticated(mail, LINDENDAL) == ""
    resolved = resolve(mail, LINDENDAL)
    assert resolved.complainant is None and resolved.forwarded_by is None, "nobody is answered on the forward's word"
    assert resolved.why == reason(Code.FROM_SEVERAL) and resolved.needs_review


@pytest.mark.parametrize("sender", [
    "Hans Ouwehand <h.ouwehand@kpnmail.example>, Buurman <buurman@gmail.example>",
    "Bewoners Esdoornflat: h.ouwehand@kpnmail.example, buurman@gmail.example;",  # a group
])
def test_a_complaint_from_several_people_at_once_is_filed_for_review_and_answered_to_nobody(sender: str) -> None:
    sure = replace(registry.load(ROOT / "models"), thresholds={"kind": 0.0, "topic": 0.0, "formality": 0.0})
    ctx = Context(own=OWN, reference_prefix="KL", find_case=lambda ref: None, classifier=sure)
    several, alone = process_many([_raw(sender, subject="Lift kapot", body=COMPLAINT),
                                   _raw("Hans Ouwehand <h.ouwehand@kpnmail.example>", subject="Lift kapot",
                                        body=COMPLAINT)], ctx)
    assert several.disposition == Disposition.REVIEW
    assert reason(Code.NOBODY_TO_ANSWER, cause="from_several") in several.reasons
    assert alone.disposition == Disposition.FILED and alone.resolved is not None
    assert alone.resolved.mail.from_count == 1


def test_an_rfc2047_encoded_verdict_under_our_id_is_not_our_servers() -> None:
    """A server writes its verdict as plain text and strips headers whose raw text starts with its
    id; an encoded header slips past the stripping and is a sender's."""
    mail = parse((FIXTURES / "encoded-authentication-results.eml").read_bytes())
    assert mail.header("authentication-results").startswith("=?us-ascii?q?mx.lindendal.example=3B")
    assert authenticated(mail, LINDENDAL) == ""
    resolved = resolve(mail, LINDENDAL)
    assert resolved.complainant is None and resolved.why == reason(Code.FORWARD_UNVERIFIED)
    assert authenticated(parse(LINDENDAL_PASS + (FIXTURES / "encoded-authentication-results.eml").read_bytes()),
                         LINDENDAL) == "dmarc", "our server's own verdict on top still counts"
