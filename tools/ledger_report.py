"""Print what the verification ledger will say about executed chapters, without a build.

Usage::

    python tools/ledger_report.py [LEDGER_DIR] [CHAPTER ...]

``LEDGER_DIR`` defaults to ``$RIBBONLIB_LEDGER_DIR`` or ``_build/ledger``; with chapter
identifiers (e.g. ``05_phase_diagram``) only those are read. For every chapter it prints
the number of checks of each kind, then every problem the book build would stop on
(failed checks, unknown kinds, uncertified inequalities in the chapters that
``_config.yml`` requires to certify), and exits with status 1 if there is one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))

import ribbon_ledger as L  # noqa: E402


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path(os.environ.get(L.LEDGER_ENV) or ROOT / "_build" / "ledger")
    wanted = argv[1:]
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    certified = config["sphinx"]["config"].get("ledger_certified_chapters", [])
    chapters = sorted(p.stem for p in folder.glob("*.jsonl"))
    if wanted:
        chapters = [c for c in chapters if c in wanted]
    ledger = L.load_ledger(folder, {f"chapters/{c}": c for c in chapters}, certified_chapters=certified)
    print(" | ".join(L.SUMMARY_COLUMNS))
    for row in L.summary_rows(ledger):
        print(" | ".join(row))
    print(ledger.totals_text())
    for problem in ledger.problems:
        print("PROBLEM:", problem)
    return 1 if ledger.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
