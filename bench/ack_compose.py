"""Cost of writing one acknowledgement (`compose` and its bytes, as the outbox row stores them),
against the floor measured in the same run: rendering its two templates, which any way of
writing the mail has to do.

Usage: taskset -c 0 python bench/ack_compose.py [--letters 2000] [--repeat 5] [--json]

Each timing is the best of N runs: on a shared virtual machine the slower runs measure the
neighbours, not the code.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

from timing import best

from triage.config import Organisation
from triage.domain import Address, Prediction
from triage.stages.acknowledge import Letter, Plan, compose, context, environment, plan

RECEIVED = datetime(2026, 3, 24, 9, 12, tzinfo=UTC)
NAMES = ("Jan de Vries", "Zoë Çelik-van Ommeren", "", "Ğülşen Yılmaz")
SUBJECTS = ("Klacht over de afhandeling van mijn aanvraag", "Lekkage — één week al, niemand komt",
            "Complaint about my carer", "")
PREDICTIONS = (
    Prediction(kind="complaint", topic="staff", formality="formal", language="nl", unsure=(), sure=True),
    Prediction(kind="complaint", topic="staff", formality="informal", language="nl", unsure=(), sure=True),
    Prediction(kind="question", topic="staff", formality="informal", language="en", unsure=(), sure=True),
    None,
)


def organisation() -> Organisation:
    return Organisation.model_validate({
        "id": "lindendal", "name": "Gemeente Lindendal", "addresses": ["klachten@lindendal.example"],
        "domains": ["lindendal.example"], "mailbox": {"type": "maildir", "path": "/tmp/x"},
        "acknowledge": {"from": "Klachtenloket Lindendal <klachten@lindendal.example>",
                        "contact_name": "Anouk Verbeek", "contact_phone": "14 0599"},
    })


def letters(org: Organisation, n: int) -> list[tuple[Letter, Plan]]:
    """N varied acknowledgements: names and subjects with and without accents, every class."""
    out = []
    for i in range(n):
        letter = Letter(reference=f"KL-2026-{i:06d}", recipient=Address(f"r{i}@example.nl", NAMES[i % 4]),
                        subject=SUBJECTS[i % 4 - 1], received=RECEIVED,
                        original_message_id=f"<{i}.abc@mail.example.nl>",
                        original_references=(f"<{i}.older@mail.example.nl>",))
        out.append((letter, plan(org, PREDICTIONS[i % 4], RECEIVED)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    org = organisation()
    work = letters(org, args.letters)
    env = environment(org.acknowledge.templates)
    created = RECEIVED + timedelta(seconds=5)

    def render() -> None:
        for letter, p in work:
            values = context(org, letter, p)
            env.get_template(f"{p.language}/{p.template}.txt").render(values)
            env.get_template(f"{p.language}/{p.template}.html").render(values)

    def write() -> None:
        for letter, p in work:
            compose(org, letter, p, created).as_bytes()

    write()  # templates compiled and caches warm before either is timed
    floor_ms = best(render, args.repeat) / len(work) * 1000
    compose_ms = best(write, args.repeat) / len(work) * 1000
    result = {"letters": len(work), "floor (render) ms": round(floor_ms, 3), "compose + bytes ms": round(compose_ms, 3),
              "MIME ms": round(compose_ms - floor_ms, 3), "ratio": round(compose_ms / floor_ms, 2)}
    width = max(len(k) for k in result)
    print(json.dumps(result) if args.json else "\n".join(f"{k:>{width}}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
