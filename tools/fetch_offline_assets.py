"""Fetch the JavaScript that the built book serves itself (MathJax, the ipywidgets
embed manager and RequireJS) from the npm registry into ``_vendor/``.

Usage: ``python tools/fetch_offline_assets.py [--vendor DIR] [--pins FILE] [--strict]``
(``make book`` and ``make test`` run it before building).

* The versions, the sha512 of each tarball and the files to keep are pinned in
  ``tools/offline-assets.toml``.
* When ``_vendor/offline-assets.json`` (written last, after every package is in place)
  already records exactly these pins, nothing is fetched: a warm run costs no network.
* Each package is fetched with ``npm pack <name>@<version>`` (npm's own cache, proxy
  and registry settings apply), its tarball is checked against the pinned sha512, and
  the listed files are extracted into ``_vendor/<name>-<version>/``.
* When npm is missing or the registry cannot be reached, the script prints what that
  means for the book and exits 0, so that the build goes on with the CDN fallback
  (``--strict`` makes it exit 1 instead). A tarball whose sha512 differs from the pin is
  always an error (exit 1): that is a wrong pin or a tampered package, not a network
  problem.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "tools" / "offline-assets.toml"
VENDOR = ROOT / "_vendor"
MANIFEST = "offline-assets.json"
PREFIX = "offline assets:"

# npm's defaults wait minutes on a dead network (5 min fetch timeout, retries up to a
# minute apart); a build should give up within a minute or so and fall back. These are
# defaults: npm_config_* variables in the environment take precedence.
NPM_ENV_DEFAULTS = {
    "npm_config_fetch_retries": "2",
    "npm_config_fetch_retry_mintimeout": "2000",
    "npm_config_fetch_retry_maxtimeout": "10000",
    "npm_config_fetch_timeout": "60000",
    "npm_config_audit": "false",
    "npm_config_fund": "false",
    "npm_config_update_notifier": "false",
    "npm_config_loglevel": "error",
}
NPM_TIMEOUT = 300  # seconds for all packages together


class Unreachable(Exception):
    """npm is missing or could not fetch a package (the network or the registry)."""


class PinMismatch(Exception):
    """A fetched tarball does not match its pinned sha512, or lacks a pinned file."""


def package_dir(name: str, version: str) -> str:
    """Folder of one package under ``_vendor`` (npm's tarball naming, without .tgz)."""
    return f"{name.lstrip('@').replace('/', '-')}-{version}"


def load_pins(path: Path = PINS) -> dict[str, dict]:
    """The pinned packages: ``name -> {version, integrity, files, entry, dir}``."""
    with open(path, "rb") as fh:
        table = tomllib.load(fh)
    pins = {}
    for name, spec in table.items():
        for key in ("version", "integrity", "files", "entry"):
            if key not in spec:
                raise ValueError(f"{path}: [{name}] lacks {key!r}")
        if not str(spec["integrity"]).startswith("sha512-"):
            raise ValueError(f"{path}: [{name}] integrity must be a sha512-... string")
        pins[name] = {
            "version": str(spec["version"]),
            "integrity": str(spec["integrity"]),
            "files": [str(f) for f in spec["files"]],
            "entry": str(spec["entry"]),
            "dir": package_dir(name, str(spec["version"])),
        }
    return pins


def is_current(vendor: Path, pins: dict[str, dict]) -> bool:
    """True when ``vendor`` holds exactly the pinned packages, complete."""
    try:
        recorded = json.loads((vendor / MANIFEST).read_text(encoding="utf-8"))["packages"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return recorded == pins and all((vendor / p["dir"] / p["entry"]).is_file() for p in pins.values())


def sri_sha512(path: Path) -> str:
    """Subresource-integrity string of a file, as the npm registry records it."""
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def npm_pack(specs: list[str], dest: Path) -> dict[str, Path]:
    """``npm pack`` the given ``name@version`` specs into ``dest``; ``name -> tarball``."""
    npm = shutil.which("npm")
    if npm is None:
        raise Unreachable("npm is not installed")
    cmd = [npm, "pack", *specs, "--json", "--pack-destination", str(dest)]
    env = {**NPM_ENV_DEFAULTS, **os.environ}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=NPM_TIMEOUT,
                              stdin=subprocess.DEVNULL, env=env, cwd=dest)
    except subprocess.TimeoutExpired:
        raise Unreachable(f"npm pack did not finish within {NPM_TIMEOUT} s") from None
    if proc.returncode != 0:
        errors = [ln[len("npm error"):].strip() for ln in proc.stderr.splitlines()
                  if ln.startswith("npm error") and not ln[9:].strip().startswith("at ")]
        code = next((e for e in errors if e.startswith("code ")), "")
        why = next((e for e in errors if "Error" in e or "reason" in e), errors[0] if errors else "")
        detail = "; ".join(x for x in (code, why) if x) or f"exit {proc.returncode}"
        raise Unreachable(f"npm pack failed: {detail}")
    try:
        packed = json.loads(proc.stdout)
    except ValueError:
        raise Unreachable(f"npm pack printed no JSON: {proc.stdout[-300:]!r}") from None
    try:
        return {item["name"]: dest / item["filename"] for item in packed}
    except (TypeError, KeyError):
        raise Unreachable(f"npm pack printed unexpected JSON: {proc.stdout[-300:]!r}") from None


def wanted(member: str, files: list[str]) -> bool:
    """Is ``member`` (a path inside the package) one of ``files`` or under a listed folder."""
    return any(member == f or (f.endswith("/") and member.startswith(f)) for f in files)


def extract(tarball: Path, files: list[str], dest: Path) -> int:
    """Extract the listed files of an npm tarball (rooted at ``package/``) into ``dest``."""
    found = set()
    count = 0
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            top, _, name = member.name.partition("/")  # npm's root folder, "package"
            if not name or top in ("", "..") or name.startswith("/") or ".." in name.split("/"):
                continue
            if not wanted(name, files):
                continue
            found.update(f for f in files if name == f or (f.endswith("/") and name.startswith(f)))
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            count += 1
    missing = [f for f in files if f not in found]
    if missing:
        raise PinMismatch(f"{tarball.name} has no {', '.join(missing)}")
    return count


def fetch(vendor: Path, pins: dict[str, dict]) -> None:
    """Fetch, verify and unpack every pinned package, then write the manifest."""
    vendor.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=vendor) as tmp:
        tmp = Path(tmp)
        specs = [f"{name}@{p['version']}" for name, p in pins.items()]
        tarballs = npm_pack(specs, tmp)
        missing = sorted(set(pins) - set(tarballs))
        if missing:
            raise Unreachable(f"npm pack returned no tarball for {', '.join(missing)}")
        staged = {}
        for name, pin in pins.items():
            tarball = tarballs[name]
            got = sri_sha512(tarball)
            if got != pin["integrity"]:
                raise PinMismatch(
                    f"{name}@{pin['version']}: tarball sha512 {got} differs from the pin "
                    f"{pin['integrity']} in tools/offline-assets.toml"
                )
            stage = tmp / "stage" / pin["dir"]
            n = extract(tarball, pin["files"], stage)
            if not (stage / pin["entry"]).is_file():
                raise PinMismatch(f"{name}@{pin['version']}: entry {pin['entry']} is not among the files kept")
            staged[name] = (stage, n)
        (vendor / MANIFEST).unlink(missing_ok=True)  # incomplete until written again
        for name, (stage, n) in staged.items():
            final = vendor / pins[name]["dir"]
            if final.exists():
                shutil.rmtree(final)
            stage.rename(final)
            print(f"{PREFIX} {name}@{pins[name]['version']}: {n} files in {final.relative_to(vendor.parent)}/")
    keep = {p["dir"] for p in pins.values()}
    for old in vendor.iterdir():  # versions no longer pinned
        if old.is_dir() and old.name not in keep and not old.name.startswith("."):
            shutil.rmtree(old)
    (vendor / MANIFEST).write_text(json.dumps({"packages": pins}, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vendor", type=Path, default=VENDOR, help="target folder (default: _vendor)")
    parser.add_argument("--pins", type=Path, default=PINS, help="pin file (default: tools/offline-assets.toml)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the registry cannot be reached")
    args = parser.parse_args(argv)

    pins = load_pins(args.pins)
    names = ", ".join(f"{n}@{p['version']}" for n, p in pins.items())
    if is_current(args.vendor, pins):
        print(f"{PREFIX} up to date in {args.vendor.name}/ ({names})")
        return 0
    print(f"{PREFIX} fetching {names} from the npm registry")
    try:
        fetch(args.vendor, pins)
    except PinMismatch as exc:
        print(f"{PREFIX} ERROR: {exc}", file=sys.stderr)
        return 1
    except (Unreachable, OSError, tarfile.TarError) as exc:
        print(
            f"{PREFIX} COULD NOT FETCH ({exc}).\n"
            f"{PREFIX} The book is built anyway, but its pages load MathJax and the widget manager\n"
            f"{PREFIX} from a CDN: read without network, math shows as raw LaTeX. Build again with\n"
            f"{PREFIX} the npm registry reachable to make the built book readable offline.",
            file=sys.stderr,
        )
        return 1 if args.strict else 0
    print(f"{PREFIX} ready in {args.vendor.name}/ (the build copies them to _build/html/_vendor/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
