"""Render one acknowledgement of each kind (HTML part) and photograph it with headless Chromium,
so people can see what complainants receive. Usage:

    .venv/bin/python scripts/ack_screenshots.py [--out docs/acks] [--chromium /usr/bin/chromium]

Writes <kind>.txt (headers and text part) and <kind>.png (the HTML part) per acknowledgement into --out.
"""

from __future__ import annotations

import argparse
import email
import email.message
import email.policy
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from triage.config import Organisation
from triage.domain import Address, Prediction
from triage.stages.acknowledge import Letter, compose, plan
from triage.stages.special import Danger, Procedure, Special

ORG = Organisation.model_validate({
    "id": "lindendal", "name": "Gemeente Lindendal", "addresses": ["klachten@lindendal.nl"],
    "domains": ["lindendal.nl"], "mailbox": {"type": "maildir", "path": "/tmp/unused"},
    "acknowledge": {"from": "Klachtenloket Gemeente Lindendal <klachten@lindendal.nl>",
                    "contact_name": "Anouk Verbeek, klachtencoördinator", "contact_phone": "14 0599",
                    "contact_email": "klachten@lindendal.nl"},
})
RECEIVED = datetime(2026, 3, 24, 9, 12, tzinfo=UTC)  # Tuesday 24 March 2026

KINDS = {
    "nl-formal-complaint": (Prediction("complaint", "staff", "formal", language="nl"),
                            "Klacht over de behandeling aan de balie Burgerzaken", "mevrouw A. de Groot"),
    "nl-informal-complaint": (Prediction("complaint", "service", "informal", language="nl"),
                              "kliko weer niet geleegd", "Ruud Verhoeven"),
    "nl-question": (Prediction("question", "service", "informal", language="nl"),
                    "Vraag over de openingstijden op zaterdag", ""),
    "nl-review": (Prediction("complaint", "service", "informal", language="nl", unsure=("formality",)),
                  "Nog steeds geen reactie op mijn brief", "L.A. Verschuur"),
    "en-formal-complaint": (Prediction("complaint", "staff", "formal", language="en"),
                            "Formal complaint about a parking fine", "Tom Whitfield"),
}
# mail that another procedure governs, and mail that reports danger (triage.stages.special)
SPECIAL = {
    "nl-passed-on-woo": Special(Procedure.WOO, "Woo-verzoek"),
    "nl-passed-on-self-harm": Special(danger=Danger.SELF_HARM, danger_words="zie geen uitweg meer"),
    "nl-passed-on-hazard": Special(danger=Danger.HAZARD, danger_words="gaslucht"),
}
SPECIAL_MAIL = {
    "nl-passed-on-woo": ("Verzoek om stukken over de kap van de lindes", "Karin Bos"),
    "nl-passed-on-self-harm": ("wachtlijst", ""),
    "nl-passed-on-hazard": ("Gaslucht in het trappenhuis Kastanjeplein", "P. de Wit"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/acks"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cases = [(name, prediction, subject, person, None) for name, (prediction, subject, person) in KINDS.items()]
    cases += [(name, Prediction("complaint", "service", "informal", language="nl"), *SPECIAL_MAIL[name], special)
              for name, special in SPECIAL.items()]
    for seq, (name, prediction, subject, person, special) in enumerate(cases, start=42):
        letter = Letter(reference=f"KL-2026-{seq:06d}", recipient=Address("burger@example.nl", person),
                        subject=subject, received=RECEIVED, original_message_id="<x@example.nl>")
        raw = compose(ORG, letter, plan(ORG, prediction, RECEIVED, special),
                      RECEIVED + timedelta(seconds=4)).as_bytes()
        msg = email.message_from_bytes(raw, policy=email.policy.default)  # as the recipient's client reads it
        assert isinstance(msg, email.message.EmailMessage)
        text, html = msg.get_body(("plain",)), msg.get_body(("html",))
        assert text is not None and html is not None
        head = f"Subject: {msg['Subject']}\nFrom: {msg['From']}\nTo: {msg['To']}\n\n"
        (args.out / f"{name}.txt").write_text(head + text.get_content().replace("\r\n", "\n"), encoding="utf-8")
        with tempfile.TemporaryDirectory() as profile:
            page = Path(profile) / f"{name}.html"
            page.write_text(html.get_content(), encoding="utf-8")
            subprocess.run([args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={profile}", "--hide-scrollbars", "--window-size=720,1400",
                            f"--screenshot={(args.out / f'{name}.png').resolve()}", page.resolve().as_uri()],
                           check=True, capture_output=True, timeout=120)
        print(args.out / f"{name}.png")


if __name__ == "__main__":
    main()
