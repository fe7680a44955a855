"""Parse time against input size, up to 1 MB, for the adversarial bodies that once took time
quadratic in their size (tests/slow_texts.py) and an ordinary Dutch letter, each against the floor
measured in the same run on the same bytes: mail-parser alone (the stdlib's MIME parser and its
text parts), which any parse with this library costs and which is linear. The table gives the
stages' time at each size, its ratio to the floor at the largest size, and the growth from the
second-largest size to the largest: about 10 for ten times the input when the time is linear,
about 100 when it is quadratic (the smallest size is dominated by the fixed cost per message).

Usage: taskset -c 0 python bench/parse_scaling.py [--sizes 10000,100000,1000000] [--repeat 3] [--json]

The stages are parse, forwards, screen and thread (`pipeline.process` without a model), with
max_text_chars raised above the largest size so that every step sees the whole text (the default
200 000 would cut it). Each timing is the best of N runs: on a shared virtual machine the slower
runs measure the neighbours, not the code.
"""

from __future__ import annotations

import argparse
import email
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import mailparser  # noqa: E402
from slow_texts import OPENING, SLOW_MAILS, slow_mail  # noqa: E402
from timing import best  # noqa: E402

from triage.addresses import OwnAddresses  # noqa: E402
from triage.pipeline import Context, process  # noqa: E402

OWN = OwnAddresses(frozenset({"klachten@debrug.example"}), frozenset({"debrug.example"}))
LETTER = (OPENING + "Mijn moeder van 84 woont op de vierde verdieping en kan de trap niet op. Ik heb drie keer "
          "gebeld en steeds gehoord dat de monteur zou komen, maar er is niemand geweest.\n\n")


def letter_mail(size: int) -> bytes:
    """An ordinary complaint of `size` characters: paragraphs of plain Dutch."""
    body = (LETTER * (size // len(LETTER) + 1))[:size]
    return (b"From: Piet Jansen <piet@example.nl>\r\nTo: klachten@debrug.example\r\nSubject: Lift kapot\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode())


def _floor(raw: bytes) -> None:
    parsed = mailparser.MailParser(email.message_from_bytes(raw))
    _ = parsed.text_plain, parsed.text_html


def measure(sizes: list[int], repeat: int) -> dict[str, dict[int, tuple[float, float]]]:
    """(floor, stages) in seconds per message, best of `repeat`, for every body at every size."""
    ctx = Context(own=OWN, reference_prefix="KL", find_case=lambda ref: None, max_text_chars=max(sizes) * 2,
                  time_budget=600.0)
    bodies = {"ordinary letter": letter_mail, **{name: (lambda n, name=name: slow_mail(name, n))
                                                 for name in SLOW_MAILS}}
    out: dict[str, dict[int, tuple[float, float]]] = {}
    for name, build in bodies.items():
        out[name] = {}
        for size in sizes:
            raw = build(size)
            floor = best(lambda raw=raw: _floor(raw), repeat)  # type: ignore[misc]
            stages = best(lambda raw=raw: process(raw, ctx), repeat)  # type: ignore[misc]
            out[name][size] = (floor, stages)
            print(f"  {name} {size}: floor {floor * 1000:.1f} ms, stages {stages * 1000:.1f} ms",
                  file=sys.stderr, flush=True)
    return out


def table(times: dict[str, dict[int, tuple[float, float]]], sizes: list[int]) -> str:
    """One row per body: the stages' time at each size, the floor and the ratio at the largest
    size, and the growth from the second-largest size to the largest."""
    last, before = sizes[-1], sizes[-2]
    head = " | ".join(f"{s // 1000} KB" for s in sizes)
    lines = [f"| body | {head} | floor at {last // 1000} KB | ratio | growth ×{last // before} input |",
             "|---|" + "---|" * (len(sizes) + 3)]
    for name, row in times.items():
        cells = " | ".join(f"{row[s][1] * 1000:.0f} ms" for s in sizes)
        floor, stages = row[last]
        lines.append(f"| {name} | {cells} | {floor * 1000:.0f} ms | {stages / floor:.1f} | "
                     f"{stages / row[before][1]:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    times = measure(sizes, args.repeat)
    if args.json:
        print(json.dumps({name: {str(s): {"floor": f, "stages": t} for s, (f, t) in row.items()}
                          for name, row in times.items()}))
    else:
        print(table(times, sizes))


if __name__ == "__main__":
    main()
