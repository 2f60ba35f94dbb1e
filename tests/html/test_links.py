"""Every internal link of the built book resolves: the file exists in the build and the
#anchor is an id of that page (cross-references, equation and figure numbers, the
table of contents, the copied assets)."""

from __future__ import annotations

from check_links import broken_links, pages_of


def test_no_broken_internal_links_or_anchors(html_dir):
    assert len(pages_of(html_dir)) >= 5, f"too few pages in {html_dir}"
    problems = broken_links(html_dir)
    assert not problems, f"{len(problems)} broken internal link(s):\n  " + "\n  ".join(problems[:50])
