"""Tests of the built book (``make test`` runs them after the strict build).

They fail, never skip, when what they test is not there: the build output
(``_build/html``, or ``$RIBBON_HTML_DIR``), the offline copies fetched into ``_vendor``,
or Chromium (``make chromium`` installs Debian's package)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "_ext"))


@pytest.fixture(scope="session")
def html_dir() -> Path:
    folder = Path(os.environ.get("RIBBON_HTML_DIR", ROOT / "_build" / "html")).resolve()
    if not (folder / "index.html").is_file():
        pytest.fail(f"no built book in {folder}: run `make book` (or `make test`, which builds it first)")
    return folder


@pytest.fixture(scope="session")
def chromium() -> str:
    from render_offline import find_chromium

    path = find_chromium()
    if path is None:
        pytest.fail("chromium not found: `make chromium` installs Debian's package (as root)")
    return path


@pytest.fixture(scope="session")
def offline_plan():
    """What the book's build serves locally (from the fetched ``_vendor``)."""
    import offline_assets

    plan = offline_assets.plan(ROOT)
    if not plan.offline:
        pytest.fail(
            "the offline copies are not in _vendor/, so the book falls back to the CDN: "
            + " ".join(plan.messages)
            + " (see the message of tools/fetch_offline_assets.py above)"
        )
    return plan
