"""The checks that tests/html applies to the built book catch what they are for: a broken
link, a broken anchor, math left as TeX, a TeX error. (No build and no browser needed.)"""

from __future__ import annotations

import sys

from nbrun import ROOT

sys.path.insert(0, str(ROOT / "tools"))

import check_links  # noqa: E402
from render_offline import math_report  # noqa: E402

PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="{up}_static/style.css?v=1">
<link rel="preconnect" href="//fonts.example">
<script src="{up}_static/../_vendor/lib/x.js?v=2"></script>
</head><body><main id="main">
<h1 id="top">Title</h1><a name="old-anchor"></a>
{links}
</main></body></html>
"""


def site(tmp_path, index_links: str, chapter_links: str = ""):
    root = tmp_path / "html"
    for folder in ("_static", "_vendor/lib", "chapters"):
        (root / folder).mkdir(parents=True)
    (root / "_static" / "style.css").write_text("")
    (root / "_vendor" / "lib" / "x.js").write_text("")
    (root / "index.html").write_text(PAGE.format(up="", links=index_links))
    (root / "chapters" / "one.html").write_text(
        PAGE.format(up="../", links='<section id="sec-a">A</section>' + chapter_links)
    )
    return root


GOOD = """
<a href="chapters/one.html">file</a>
<a href="chapters/one.html#sec-a">anchor</a>
<a href="./chapters/one.html#sec%2Da">escaped anchor</a>
<a href="#top">same page</a><a href="#">top of page</a><a href="#old-anchor">a name</a>
<a href="chapters/">folder</a>
<a href="https://example.org/missing.html#nowhere">external</a>
<a href="mailto:someone@example.org">mail</a>
<img src="data:image/png;base64,AAAA">
"""


def test_a_sound_site_has_no_broken_links(tmp_path):
    root = site(tmp_path, GOOD, '<a href="../index.html#main">up</a>')
    (root / "chapters" / "index.html").write_text(PAGE.format(up="../", links=""))
    assert check_links.broken_links(root) == []


def test_broken_file_and_broken_anchor_are_reported(tmp_path):
    root = site(
        tmp_path,
        GOOD + '<a href="chapters/two.html">gone</a>\n<a href="chapters/one.html#sec-b">bad anchor</a>',
        '<a href="#nowhere">bad local anchor</a><script src="../_static/../_vendor/lib/y.js"></script>'
        '<a href="../../outside.html">outside</a>',
    )
    (root / "chapters" / "index.html").write_text(PAGE.format(up="../", links=""))
    problems = check_links.broken_links(root)
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert "index.html:" in text and "no file chapters/two.html" in text
    assert "no id 'sec-b' in chapters/one.html" in text
    assert "chapters/one.html:" in text and "no id 'nowhere' in chapters/one.html" in text
    assert "no file _vendor/lib/y.js" in text
    assert "points outside the build" in text


def test_a_folder_without_index_is_broken(tmp_path):
    root = site(tmp_path, '<a href="chapters/">folder</a>')
    assert check_links.broken_links(root) == [
        "index.html:7: <a> chapters/: no file chapters/index.html"
    ]


RENDERED = """<html><body>
<p>Inline <span class="math notranslate nohighlight"><mjx-container class="MathJax" jax="SVG">
<svg><path d="M0 0"/><use href="#x"></use></svg><mjx-assistive-mml><math><mi>x</mi></math>
</mjx-assistive-mml></mjx-container></span> text.</p>
<div class="math notranslate nohighlight" id="equation-e"><span class="eqno">(1.1)<a class="headerlink"
href="#equation-e">#</a></span><mjx-container class="MathJax" jax="SVG" display="true">
<svg><g><path d="M1 1"></path></g></svg></mjx-container></div>
<pre>code may say $$ and \\[ freely</pre>
</body></html>"""


def test_rendered_math_passes():
    report = math_report(RENDERED)
    assert (report.math, report.rendered, report.containers) == (2, 2, 2)
    assert report.ok, report.summary()


def test_raw_tex_and_tex_errors_fail():
    raw = '<div class="math notranslate nohighlight">\\[ \\frac{a}{b} \\]</div>'
    report = math_report(RENDERED.replace("<pre>", raw + "<pre>"))
    assert not report.ok and report.math == 3 and report.rendered == 2
    assert "\\frac" in report.raw[0]

    prose = RENDERED.replace("<pre>", "<p>Left as text: $$ x^2 $$</p><pre>")
    report = math_report(prose)
    assert report.rendered == report.math and not report.ok and "$$" in report.raw[0]

    error = RENDERED.replace("<svg><g>", '<mjx-merror data-mjx-error="Undefined control sequence \\foo">'
                             "<mjx-mtext>\\foo</mjx-mtext></mjx-merror><svg><g>")
    report = math_report(error)
    assert not report.ok and report.errors == ["\\foo"]
