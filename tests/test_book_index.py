"""_ext/book_index.py: the results and exercises are read from the chapters' sources."""

from __future__ import annotations

import sys

from nbrun import ROOT

sys.path.insert(0, str(ROOT / "_ext"))

import book_index as B  # noqa: E402

SOURCE = """\
```{prf:proposition} Mode solution and stability
:label: prop-gd-modes

Text.
```

::::{prf:lemma}
:label: lem-x
:class: dropdown
::::

```{prf:proof}
Not listed.
```

```{exercise} Momentum (intermediate)
:label: ex-gd-momentum
```

```{exercise} No level given
:label: ex-gd-2
```

```{exercise}
:label: ex-gd-3
```
"""


def test_scan_reads_results_and_exercises_with_levels():
    entries = B.scan("chapters/02_gd", SOURCE)
    assert [(e.kind, e.label, e.title, e.level) for e in entries] == [
        ("proposition", "prop-gd-modes", "Mode solution and stability", ""),
        ("lemma", "lem-x", "", ""),
        ("exercise", "ex-gd-momentum", "Momentum", "intermediate"),
        ("exercise", "ex-gd-2", "No level given", ""),
        ("exercise", "ex-gd-3", "", ""),
    ]


def test_every_exercise_of_the_book_has_a_level():
    missing = []
    for path in sorted((ROOT / "chapters").glob("*.md")):
        for e in B.scan(f"chapters/{path.stem}", path.read_text(encoding="utf-8")):
            if e.kind == "exercise" and e.level not in B.LEVELS:
                missing.append(f"{path.name}: {e.label}")
    assert not missing, "exercises without a level (end the title with (basic), (intermediate) or (advanced)): " + ", ".join(missing)
