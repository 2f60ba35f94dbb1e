"""Offline assets: the pins, the fetcher (without the network) and the Sphinx extension.

The fetch from the real registry and the offline rendering are tested on the built book
by ``tests/html`` (run by ``make test`` after the build)."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

from nbrun import ROOT

sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "_ext"))

import fetch_offline_assets as fetcher  # noqa: E402
import offline_assets  # noqa: E402

PINS = ROOT / "tools" / "offline-assets.toml"


def test_pins_name_the_four_packages_with_sha512_and_keep_their_entry():
    pins = fetcher.load_pins(PINS)
    assert set(pins) == {offline_assets.MATHJAX, offline_assets.MATHJAX_FONT, offline_assets.REQUIREJS,
                         offline_assets.HTML_MANAGER}
    # MathJax 4 (line breaking of display math) with the font of the same release
    assert pins["mathjax"]["version"].startswith("4.")
    assert pins[offline_assets.MATHJAX_FONT]["version"] == pins["mathjax"]["version"]
    assert pins["mathjax"]["entry"] == "tex-svg.js"
    for name, pin in pins.items():
        assert pin["integrity"].startswith("sha512-") and len(pin["integrity"]) == 95, name
        assert fetcher.wanted(pin["entry"], pin["files"]), f"{name}: entry not among files"
        assert all("*" not in f and not f.startswith("/") and ".." not in f for f in pin["files"])


def test_fetched_folder_is_ignored_and_not_a_source_folder():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "_vendor/" in ignored or "_vendor" in ignored
    config = (ROOT / "_config.yml").read_text()
    assert "  - _vendor\n" in config, "Sphinx must not scan _vendor for sources"
    assert "offline_assets: _ext" in config


# ------------------------------------------------------------------ fetcher, no network


def make_tarball(path: Path, files: dict[str, bytes]) -> Path:
    """An npm-style tarball (entries under package/)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def fake_packages(tmp: Path):
    """Pins and tarballs of two small packages, as npm pack would return them."""
    contents = {
        "alpha": {"package.json": b"{}", "dist/a.js": b"A", "dist/sub/b.js": b"B", "other.js": b"X",
                  "dist/../../../escape.js": b"no"},
        "@scope/beta": {"package.json": b"{}", "beta.js": b"C"},
    }
    tarballs, pins_text = {}, ""
    for name, files in contents.items():
        tgz = make_tarball(tmp / f"{name.replace('/', '-').lstrip('@')}.tgz", files)
        tarballs[name] = tgz
        keep = '["package.json", "dist/"]' if name == "alpha" else '["beta.js"]'
        entry = "dist/a.js" if name == "alpha" else "beta.js"
        pins_text += (f'["{name}"]\nversion = "1.2.3"\nintegrity = "{fetcher.sri_sha512(tgz)}"\n'
                      f"files = {keep}\nentry = \"{entry}\"\n\n")
    pins_file = tmp / "pins.toml"
    pins_file.write_text(pins_text)
    return pins_file, tarballs


def test_fetch_verifies_extracts_records_and_then_reuses(tmp_path, monkeypatch, capsys):
    pins_file, tarballs = fake_packages(tmp_path)
    calls = []

    def fake_pack(specs, dest):
        calls.append(specs)
        return {name: Path(tgz) for name, tgz in tarballs.items()}

    monkeypatch.setattr(fetcher, "npm_pack", fake_pack)
    vendor = tmp_path / "vendor"
    (vendor / "alpha-0.9").mkdir(parents=True)  # a version no longer pinned
    assert fetcher.main(["--vendor", str(vendor), "--pins", str(pins_file)]) == 0
    assert calls == [["alpha@1.2.3", "@scope/beta@1.2.3"]]
    assert (vendor / "alpha-1.2.3" / "dist" / "sub" / "b.js").read_bytes() == b"B"
    assert not (vendor / "alpha-1.2.3" / "other.js").exists()  # not listed
    assert not list(tmp_path.parent.rglob("escape.js"))  # no path leaves the package folder
    assert (vendor / "scope-beta-1.2.3" / "beta.js").is_file()
    assert not (vendor / "alpha-0.9").exists()
    assert fetcher.is_current(vendor, fetcher.load_pins(pins_file))

    # Warm: nothing fetched.
    assert fetcher.main(["--vendor", str(vendor), "--pins", str(pins_file)]) == 0
    assert len(calls) == 1 and "up to date" in capsys.readouterr().out

    # A missing entry makes the record stale.
    (vendor / "scope-beta-1.2.3" / "beta.js").unlink()
    assert not fetcher.is_current(vendor, fetcher.load_pins(pins_file))


def test_fetch_refuses_a_tarball_that_differs_from_its_pin(tmp_path, monkeypatch, capsys):
    pins_file, tarballs = fake_packages(tmp_path)
    make_tarball(tarballs["alpha"], {"package.json": b"{}", "dist/a.js": b"tampered"})
    monkeypatch.setattr(fetcher, "npm_pack", lambda specs, dest: dict(tarballs))
    vendor = tmp_path / "vendor"
    assert fetcher.main(["--vendor", str(vendor), "--pins", str(pins_file)]) == 1
    assert "differs from the pin" in capsys.readouterr().err
    assert not (vendor / fetcher.MANIFEST).exists() and not (vendor / "alpha-1.2.3").exists()


def test_fetch_names_a_pinned_file_missing_from_the_package(tmp_path):
    tgz = make_tarball(tmp_path / "p.tgz", {"a.js": b"A"})
    with pytest.raises(fetcher.PinMismatch, match="no b.js"):
        fetcher.extract(tgz, ["a.js", "b.js"], tmp_path / "out")


def test_unreachable_registry_falls_back_with_a_message(tmp_path, monkeypatch, capsys):
    """A registry that refuses connections (the discard port) and an empty npm cache."""
    if fetcher.shutil.which("npm") is None:
        pytest.skip("npm is not installed: the 'npm is not installed' branch applies")
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_offline", "false")
    vendor = tmp_path / "vendor"
    assert fetcher.main(["--vendor", str(vendor)]) == 0
    err = capsys.readouterr().err
    assert "COULD NOT FETCH" in err and "raw LaTeX" in err and "ECONNREFUSED" in err
    assert not (vendor / fetcher.MANIFEST).exists()
    assert fetcher.main(["--vendor", str(vendor), "--strict"]) == 1


# ------------------------------------------------------------------ Sphinx extension


ALL = ("mathjax", "@mathjax/mathjax-newcm-font", "requirejs", "@jupyter-widgets/html-manager")


def fake_vendor(folder: Path, names=ALL) -> dict:
    pins = fetcher.load_pins(PINS)
    for name in names:
        pin = pins[name]
        entry = folder / pin["dir"] / pin["entry"]
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text("// stand-in\n")
    (folder / offline_assets.MANIFEST).write_text(json.dumps({"packages": pins}))
    return pins


def test_plan_serves_fetched_copies_relative_to_static(tmp_path):
    pins = fake_vendor(tmp_path / "_vendor")
    plan = offline_assets.plan(tmp_path)
    mj = pins["mathjax"]
    assert plan.offline
    # Sphinx joins relative asset paths to _static/: ../ leads back to the output root.
    assert plan.mathjax_path == f"../_vendor/{mj['dir']}/{mj['entry']}"
    assert list(plan.ipywidgets_js) == [
        f"../_vendor/{pins['requirejs']['dir']}/require.js",
        f"../_vendor/{pins['@jupyter-widgets/html-manager']['dir']}/dist/embed-amd.js",
    ]
    assert all(attrs == {} for attrs in plan.ipywidgets_js.values()), "no CORS attributes on file:// scripts"
    assert sorted(rel for _src, rel in plan.copies) == sorted(f"_vendor/{p['dir']}" for p in pins.values())
    assert "read offline" in plan.messages[0] and len(plan.messages) == 1  # the pins match
    # MathJax finds its font's glyph data in the sibling folder
    font_dir = pins["@mathjax/mathjax-newcm-font"]["dir"]
    assert plan.mathjax_paths == {"mathjax-newcm": f"[mathjax]/../{font_dir}"}


def test_plan_falls_back_to_the_cdn_and_says_so(tmp_path):
    plan = offline_assets.plan(tmp_path)  # nothing fetched
    assert plan.mathjax_path is None and plan.ipywidgets_js is None and not plan.copies
    assert "NOT OFFLINE" in plan.messages[0] and "raw LaTeX" in plan.messages[0]

    fake_vendor(tmp_path / "_vendor", names=("mathjax", "@mathjax/mathjax-newcm-font", "requirejs"))
    plan = offline_assets.plan(tmp_path)  # no widget manager
    assert plan.mathjax_path and plan.ipywidgets_js is None and len(plan.copies) == 2
    assert "ipywidgets manager" in plan.messages[0] and "raw LaTeX" not in plan.messages[0]


def test_plan_notes_copies_that_differ_from_the_pins(tmp_path):
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "offline-assets.toml").write_text(PINS.read_text().replace('"4.1.3"', '"4.1.2"'))
    fake_vendor(tmp_path / "_vendor")
    plan = offline_assets.plan(tmp_path)
    assert plan.offline and any("does not hold the versions pinned" in m for m in plan.messages)


def test_copy_tree_copies_only_what_changed(tmp_path):
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "a" / "x.js").write_text("x")
    (src / "y.js").write_text("y")
    assert offline_assets.copy_tree(src, tmp_path / "out") == 2
    assert offline_assets.copy_tree(src, tmp_path / "out") == 0
    (src / "y.js").write_text("yy")
    assert offline_assets.copy_tree(src, tmp_path / "out") == 1
    assert (tmp_path / "out" / "y.js").read_text() == "yy"


def test_mathjax_without_its_font_is_not_served(tmp_path):
    """MathJax 4 loads glyph data from its font package on demand: without it, offline
    pages would miss characters, so the build falls back to the CDN and says so."""
    fake_vendor(tmp_path / "_vendor", names=("mathjax", "requirejs", "@jupyter-widgets/html-manager"))
    plan = offline_assets.plan(tmp_path)
    assert plan.mathjax_path is None and not plan.offline and "raw LaTeX" in plan.messages[0]
