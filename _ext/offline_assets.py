"""Sphinx extension: the built book serves MathJax and the ipywidgets manager itself.

``tools/fetch_offline_assets.py`` (run by ``make book`` and ``make test``) unpacks the
pinned npm packages into ``_vendor/`` and records them in
``_vendor/offline-assets.json``. When that record is there, this extension

* copies each recorded package folder to ``<html output>/_vendor/`` (before any page is
  written, so that Sphinx can add its checksum query to the script URLs);
* sets ``mathjax_path`` to the local MathJax component and ``nb_ipywidgets_js`` (myst-nb)
  to the local RequireJS and embed manager. Sphinx takes such paths relative to
  ``_static/`` and writes them relative to each page (``../_static/../_vendor/...`` from
  ``chapters/``), so the pages work from ``file://`` and from any web server.

When the record is missing (the registry could not be reached, or a bare
``jupyter-book build`` without the fetch step), it changes nothing, so the pages use
the CDN defaults of Sphinx and myst-nb, and it says so in the build log. This is an
information message, not a warning: the strict build (``-W``) must still pass offline.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "offline-assets.json"
PINS = Path("tools") / "offline-assets.toml"
OUT_DIR = "_vendor"  # folder of the HTML output that holds the copies

MATHJAX = "mathjax"
MATHJAX_FONT = "@mathjax/mathjax-newcm-font"
REQUIREJS = "requirejs"
HTML_MANAGER = "@jupyter-widgets/html-manager"


@dataclass
class OfflineAssets:
    """What the build should do with the fetched packages.

    Attributes
    ----------
    mathjax_path : str or None
        Value for ``mathjax_path``, or None for the default. Sphinx reads a relative
        asset path as relative to ``_static/``, hence the leading ``../``.
    mathjax_paths : dict
        Entries for MathJax's ``loader.paths``: where its font's glyph data lives,
        relative to MathJax's own folder (``[mathjax]``).
    ipywidgets_js : dict or None
        Value for myst-nb's ``nb_ipywidgets_js`` (paths as for ``mathjax_path``), or
        None for the default.
    copies : list of tuple
        ``(source folder, folder relative to the output root)`` to copy.
    messages : list of str
        What the build log should say.
    """

    mathjax_path: str | None = None
    mathjax_paths: dict[str, str] = field(default_factory=dict)
    ipywidgets_js: dict[str, dict[str, str]] | None = None
    copies: list[tuple[Path, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def offline(self) -> bool:
        """True when math and widgets are both served from the build."""
        return self.mathjax_path is not None and self.ipywidgets_js is not None


def _pinned(srcdir: Path) -> dict[str, tuple[str, str]] | None:
    try:
        with open(srcdir / PINS, "rb") as fh:
            table = tomllib.load(fh)
        return {name: (str(s.get("version")), str(s.get("integrity"))) for name, s in table.items()}
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        return None


def plan(srcdir: str | Path, vendor: str = "_vendor") -> OfflineAssets:
    """Decide, from ``<srcdir>/<vendor>/offline-assets.json``, what to serve locally.

    Parameters
    ----------
    srcdir : path
        The book's source folder.
    vendor : str
        Folder, relative to ``srcdir``, into which the packages were fetched.

    Returns
    -------
    OfflineAssets
        Local paths for every recorded, complete package; None (the CDN default) for
        the others, with a message naming what is missing.
    """
    srcdir = Path(srcdir)
    folder = srcdir / vendor
    result = OfflineAssets()
    try:
        packages = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["packages"]
        if not isinstance(packages, dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        packages = {}

    def local(name: str) -> tuple[str, tuple[Path, str]] | None:
        """(entry path relative to _static/, (source, target)) of a complete package."""
        pkg = packages.get(name)
        try:
            source, target = folder / pkg["dir"], f"{OUT_DIR}/{pkg['dir']}"
            if (source / pkg["entry"]).is_file():
                return f"../{target}/{pkg['entry']}", (source, target)
        except (TypeError, KeyError):
            pass
        return None

    mathjax, font = local(MATHJAX), local(MATHJAX_FONT)
    require, embed = local(REQUIREJS), local(HTML_MANAGER)
    if mathjax and font:
        result.mathjax_path = mathjax[0]
        result.copies += [mathjax[1], font[1]]
        # [mathjax] is the folder of tex-svg.js; the font folder is its sibling
        result.mathjax_paths = {"mathjax-newcm": f"[mathjax]/../{Path(font[1][1]).name}"}
    if require and embed:
        # No integrity/crossorigin attributes: a CORS-mode request for a file:// script
        # is refused by browsers. Widget modules other than the built-in ones still come
        # from the embed manager's default CDN.
        result.ipywidgets_js = {require[0]: {}, embed[0]: {}}
        result.copies += [require[1], embed[1]]

    if result.offline:
        versions = ", ".join(
            f"{n} {packages[n]['version']}" for n in (MATHJAX, MATHJAX_FONT, HTML_MANAGER, REQUIREJS)
        )
        result.messages.append(f"served from the build, pages read offline ({versions})")
        pins = _pinned(srcdir)
        recorded = {n: (str(p.get("version")), str(p.get("integrity"))) for n, p in packages.items()}
        if pins is not None and pins != recorded:
            result.messages.append(
                f"{vendor}/ does not hold the versions pinned in {PINS.as_posix()}: "
                "run `make book` (or python tools/fetch_offline_assets.py) to refresh it"
            )
    else:
        missing, effects = [], []
        if result.mathjax_path is None:
            missing.append(MATHJAX)
            effects.append("math shows as raw LaTeX")
        if result.ipywidgets_js is None:
            missing.append("the ipywidgets manager")
            effects.append("widgets do not display")
        result.messages.append(
            f"NOT OFFLINE: no local copy of {' and '.join(missing)} in {vendor}/ "
            f"({MANIFEST} missing or incomplete). The pages load "
            f"{'them' if len(missing) > 1 else 'it'} from the CDN; read without network, "
            f"{' and '.join(effects)}. `make book` fetches the copies "
            "(tools/fetch_offline_assets.py) when the npm registry is reachable."
        )
    return result


def copy_tree(source: Path, target: Path) -> int:
    """Copy ``source`` into ``target``, skipping files whose size and mtime match.

    Returns the number of files copied.
    """
    copied = 0
    for src in source.rglob("*"):
        if not src.is_file():
            continue
        dst = target / src.relative_to(source)
        st = src.stat()
        try:
            dt = dst.stat()
            if dt.st_size == st.st_size and int(dt.st_mtime) == int(st.st_mtime):
                continue
        except FileNotFoundError:
            pass
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        copied += 1
    return copied


def setup(app) -> dict[str, Any]:
    """Point MathJax and the widget manager at local copies when they were fetched."""
    from sphinx.util import logging
    from sphinx.util.console import bold, red

    logger = logging.getLogger(__name__)
    app.add_config_value("offline_assets_vendor", "_vendor", "html")

    def on_config_inited(app_, config) -> None:
        result = plan(app_.srcdir, config.offline_assets_vendor)
        app_._offline_assets = result
        if result.mathjax_path:
            config.mathjax_path = result.mathjax_path
            mj = dict(config.mathjax3_config or {})
            loader = dict(mj.get("loader", {}))
            loader["paths"] = {**loader.get("paths", {}), **result.mathjax_paths}
            mj["loader"] = loader
            config.mathjax3_config = mj
        if result.ipywidgets_js:
            config.nb_ipywidgets_js = result.ipywidgets_js
        for msg in result.messages:
            text = f"[offline assets] {msg}"
            logger.info(bold(text) if result.offline else bold(red(text)))

    def on_builder_inited(app_) -> None:
        if getattr(app_.builder, "format", None) != "html":
            return
        result: OfflineAssets = app_._offline_assets
        outdir = Path(app_.outdir)
        n = sum(copy_tree(source, outdir / rel) for source, rel in result.copies)
        if result.copies:
            logger.info(f"[offline assets] {n} file(s) copied to {outdir.name}/{OUT_DIR}/")
        keep = {Path(rel).name for _source, rel in result.copies}
        if (outdir / OUT_DIR).is_dir():  # copies of versions that are no longer served
            for old in (outdir / OUT_DIR).iterdir():
                if old.is_dir() and old.name not in keep:
                    shutil.rmtree(old)

    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", on_builder_inited)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
