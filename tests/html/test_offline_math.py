"""The built book reads without network: every page with math loads MathJax from the
build itself, and in headless Chromium cut off from the network every math element is
rendered by MathJax, with no TeX left as text and no TeX error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, urlsplit

from check_links import is_internal, scan
from render_offline import dump_dom, isolation_prefix, math_report, pages_with_math


def mathjax_scripts(page):
    return [v for _line, tag, v in scan(page).refs if tag == "script" and "mathjax" in v.lower()]


def test_every_page_with_math_loads_mathjax_from_the_build(html_dir, offline_plan):
    pages = pages_with_math(html_dir)
    assert pages, f"no page with math in {html_dir}"
    expected = (html_dir / "_static" / offline_plan.mathjax_path).resolve()
    for page in pages:
        srcs = mathjax_scripts(page)
        rel = page.relative_to(html_dir)
        assert len(srcs) == 1, f"{rel}: MathJax scripts {srcs}"
        assert is_internal(srcs[0]), f"{rel} loads MathJax from the network: {srcs[0]}"
        target = (page.parent / unquote(urlsplit(srcs[0]).path)).resolve()
        assert target == expected and target.is_file(), f"{rel}: {srcs[0]} is not {expected}"


def test_math_renders_without_network(html_dir, chromium):
    pages = pages_with_math(html_dir)
    assert pages, f"no page with math in {html_dir}"
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda p: math_report(dump_dom(p.as_uri(), chromium=chromium)), pages))
    failures = [f"{p.relative_to(html_dir)}: {r.summary()}" for p, r in zip(pages, reports) if not r.ok]
    assert not failures, "math not rendered offline:\n  " + "\n  ".join(failures)
    assert sum(r.rendered for r in reports) >= 100  # the book has plenty of math: sanity
    print(f"{len(pages)} pages, {sum(r.rendered for r in reports)} math elements rendered offline "
          f"(isolation: {' '.join(isolation_prefix()) or 'proxy'})")


def test_the_browser_really_has_no_network(tmp_path, chromium):
    """Control: a page that loads MathJax from Sphinx's default CDN address (what the pages
    would do without the local copy) renders no math in the same browser set-up."""
    from sphinx.ext.mathjax import MATHJAX_URL

    page = tmp_path / "cdn.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><script defer src="{MATHJAX_URL}"></script></head><body>'
        '<div class="math notranslate nohighlight">\\[ \\frac{a}{b} \\]</div></body></html>'
    )
    report = math_report(dump_dom(page.as_uri(), chromium=chromium, budget_ms=10000))
    assert report.math == 1 and report.rendered == 0 and report.containers == 0, report.summary()
    assert report.raw and not report.ok
