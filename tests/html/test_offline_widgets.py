"""Widgets read offline too. No chapter shows a widget yet, so this builds a one-notebook
Sphinx project with the book's widget configuration (myst-nb and the offline_assets
extension, using the fetched ``_vendor``): the notebook holds the saved state of an
ipywidgets slider, as a notebook executed with widgets does. Headless Chromium without
network must then draw the slider from the page's saved state."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

from render_offline import dump_dom

ROOT = Path(__file__).resolve().parents[2]

DESCRIPTION = "offline slider"


def widget_notebook() -> nbformat.NotebookNode:
    import ipywidgets
    from ipywidgets.embed import embed_data

    slider = ipywidgets.IntSlider(value=7, min=0, max=10, description=DESCRIPTION)
    data = embed_data(views=[slider])
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": data["manager_state"]}
    cell = nbformat.v4.new_code_cell("slider")
    cell.outputs = [nbformat.v4.new_output(
        "display_data",
        data={"application/vnd.jupyter.widget-view+json": data["view_specs"][0],
              "text/plain": "IntSlider(value=7)"},
    )]
    nb.cells = [nbformat.v4.new_markdown_cell("# A widget"), cell]
    return nb


def test_saved_widget_state_renders_without_network(tmp_path, chromium, offline_plan):
    src, out = tmp_path / "src", tmp_path / "html"
    (src / "chapters").mkdir(parents=True)
    nbformat.write(widget_notebook(), src / "chapters" / "widget.ipynb")
    (src / "index.md").write_text("# Widgets\n\n```{toctree}\nchapters/widget\n```\n")
    (src / "conf.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / "_ext")!r})
        extensions = ["myst_nb", "offline_assets"]
        offline_assets_vendor = {str(ROOT / "_vendor")!r}
        nb_execution_mode = "off"
        exclude_patterns = ["_build"]
    """))
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", str(src), str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    page = out / "chapters" / "widget.html"
    html = page.read_text()

    # The page loads RequireJS and the embed manager from the build, by relative paths.
    for path in offline_plan.ipywidgets_js:
        name = path.rsplit("/", 1)[-1]
        tags = [t for t in html.split("<script")[1:] if name in t.split(">")[0]]
        assert tags, f"{name} is not loaded by {page.name}"
        assert f'src="../_static/{path}' in tags[0], tags[0][:200]
        assert (out / "_static" / path).resolve().is_file()
    assert "application/vnd.jupyter.widget-state+json" in html

    # What the embed manager draws from the saved state: the slider, its label, its value.
    dom = dump_dom(page.as_uri(), chromium=chromium)
    drawn = re.search(
        r'<div class="widget-subarea"><div class="[^"]*\bwidget-slider\b[^"]*">'
        rf'<label class="widget-label"[^>]*>{DESCRIPTION}</label>.*?'
        r'<div class="widget-readout"[^>]*>7</div>', dom, flags=re.S,
    )
    assert drawn, "the slider was not drawn offline; widget classes in the page: " + json.dumps(
        sorted(set(re.findall(r"\bwidget-[a-z-]+", dom)))[:20]
    )
