"""Publishing: the workflow files pass actionlint (and a broken one does not), the
workflow does what the README says, CITATION.cff is valid, and the book, the library,
the citation and the changelog state one version.

The tests of what the build publishes (the PDF, the notebooks) are in
``tests/html/test_publish_*.py``: they run after the build."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nbrun import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BOOK_YML = WORKFLOWS / "book.yml"


def _tool(name: str, hint: str) -> str:
    """A command of the test environment (next to this Python), else on PATH."""
    here = Path(sys.executable).parent / name
    path = str(here) if here.exists() else shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: {hint}")
    return path


def actionlint(folder: Path) -> subprocess.CompletedProcess:
    exe = _tool("actionlint", "it comes with the test extra (`make test` installs it)")
    files = sorted(str(p) for p in (folder / ".github" / "workflows").glob("*.y*ml"))
    assert files, f"no workflow file under {folder}"
    return subprocess.run([exe, "-no-color", *files], cwd=folder, capture_output=True, text=True, timeout=120)


def test_workflows_pass_actionlint() -> None:
    result = actionlint(ROOT)
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"


# Each breakage is one that GitHub would reject or run wrongly, and that YAML alone accepts.
BREAKAGES = {
    "undefined expression": (
        "cancel-in-progress: ${{ github.event_name == 'pull_request' }}",
        "cancel-in-progress: ${{ github.event_nam == 'pull_request' }}",
        "property \"event_nam\" is not defined",
    ),
    "undefined step output": (
        "url: ${{ steps.deployment.outputs.page_url }}",
        "url: ${{ steps.deploy.outputs.page_url }}",
        "property \"deploy\" is not defined",
    ),
    "bad key": ("    runs-on: ubuntu-24.04\n", "    run-on: ubuntu-24.04\n", "unexpected key \"run-on\""),
    "unknown action input": ("          cache-dependency-path: constraints.txt\n",
                             "          cache-dependency-paths: constraints.txt\n",
                             "input \"cache-dependency-paths\" is not defined"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_actionlint_catches_a_broken_workflow(breakage: str, tmp_path: Path) -> None:
    old, new, message = BREAKAGES[breakage]
    text = BOOK_YML.read_text()
    assert old in text, f"the workflow no longer contains {old!r}: update this test"
    broken = tmp_path / ".github" / "workflows" / "book.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(text.replace(old, new, 1))
    result = actionlint(tmp_path)
    assert result.returncode != 0, f"actionlint accepted a workflow with a {breakage}"
    assert message in result.stdout, result.stdout


def _workflow() -> dict:
    data = yaml.safe_load(BOOK_YML.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_workflow_runs_the_readme_test_command_and_publishes() -> None:
    wf = _workflow()
    assert {"push", "pull_request"} <= set(wf["on"]), "the workflow must run on pushes and pull requests"
    assert wf["on"]["push"]["tags"] == ["v*"]
    build = wf["jobs"]["build"]
    runs = [s.get("run", "") for s in build["steps"]]
    assert any(r.strip() == "make test" for r in runs), "the build must run exactly the README's test command"
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test"), ".ci/run and the workflow differ"
    uses = {s["uses"].split("@")[0]: s for s in build["steps"] if "uses" in s}
    assert uses["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert uses["actions/setup-python"]["with"]["cache-dependency-path"] == "constraints.txt"
    cached = [s["with"]["path"] for s in build["steps"] if s.get("uses", "").startswith("actions/cache@")]
    assert "_build/.jupyter_cache" in cached
    uploads = {s["with"]["path"]: s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")}
    assert "_build/html" in uploads and uploads["_build/html/reports"]["if"] == "failure()"
    assert "actions/configure-pages" in uses and "actions/upload-pages-artifact" in uses
    deploy = wf["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert "refs/heads/main" in deploy["if"]
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    release = wf["jobs"]["release"]
    assert release["permissions"] == {"contents": "write"} and "refs/tags/v" in release["if"]
    assert "sha256sum --check" in release["steps"][-1]["run"]
    assert wf["permissions"] == {"contents": "read"}, "jobs get write access only where they need it"


def test_actions_are_pinned_by_version() -> None:
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        for ref in re.findall(r"uses:\s*(\S+)", path.read_text()):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", ref), (
                f"{path.name}: {ref} is not pinned to a version")


# -- citation and version --------------------------------------------------------------------


def cffconvert() -> str:
    """cffconvert lives in an environment of its own (.venv/cffconvert, made by make)."""
    exe = Path(sys.prefix) / "cffconvert" / "bin" / "cffconvert"
    if not exe.exists():
        pytest.fail(f"{exe} not found: `make test` installs cffconvert (tools/cffconvert-requirements.txt)")
    return str(exe)


def test_citation_cff_is_valid() -> None:
    result = subprocess.run([cffconvert(), "--validate", "-i", str(ROOT / "CITATION.cff")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cffconvert_rejects_an_invalid_citation(tmp_path: Path) -> None:
    broken = tmp_path / "CITATION.cff"
    broken.write_text((ROOT / "CITATION.cff").read_text().replace("\nauthors:", "\nauthor:", 1))
    result = subprocess.run([cffconvert(), "--validate", "-i", str(broken)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0, "cffconvert accepted a citation without authors"


def library_version() -> str:
    tree = ast.parse((ROOT / "ribbonlib" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__version__"]:
            return ast.literal_eval(node.value)
    raise AssertionError("ribbonlib/__init__.py sets no __version__")


def test_one_version_everywhere() -> None:
    import tomllib

    version = library_version()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ribbonlib.__version__"}
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert str(cff["version"]) == version, "CITATION.cff states another version than ribbonlib.__version__"
    assert str(cff["preferred-citation"]["version"]) == version
    releases = re.findall(r"^## \[(\d[^\]]*)\] - (\d{4}-\d{2}-\d{2})", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert releases, "CHANGELOG.md lists no release"
    assert releases[0][0] == version, f"the latest release in CHANGELOG.md is {releases[0][0]}, not {version}"
    assert str(cff["date-released"]) == releases[0][1], "CITATION.cff and CHANGELOG.md date the release differently"
    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        import publish
    finally:
        sys.path.remove(str(ROOT / "_ext"))
    assert publish.book_version(ROOT) == version


def test_commit_is_unknown_outside_git(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        import publish
    finally:
        sys.path.remove(str(ROOT / "_ext"))
    assert publish.book_commit(tmp_path) == "unknown"
    if (ROOT / ".git").exists() and shutil.which("git"):
        assert re.fullmatch(r"[0-9a-f]{7,40}", publish.book_commit(ROOT))


def test_ci_environment_names_no_secret() -> None:
    """The workflow reads only the token GitHub gives every run."""
    assert set(re.findall(r"secrets\.(\w+)", BOOK_YML.read_text())) <= {"GITHUB_TOKEN"}


# -- the conversion of MyST to the Markdown of the notebooks ---------------------------------


def _converter():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import notebooks
    finally:
        sys.path.remove(str(ROOT / "tools"))
    numbers = notebooks.Numbers(
        eq={"eq-a": "(2.1)"},
        named={"ex-a": "Exercise 2.1", "prop-a": "Proposition 2.3", "fig-a": "Fig. 2.4"},
        titles={"sec-a": "2.2. A section"})
    glue = {"g-x": {"data": {"text/plain": "0.123456"}}, "g-s": {"data": {"text/plain": "'1.2×10⁻⁸'"}}}
    return notebooks.Converter(numbers, glue, {"mao2026analytical": "Mao et al., 2026"},
                               "https://example.org/book/", "chapters/02_x")


SOURCE = """\
(sec-a)=
## A section

As {eq}`eq-a` and {prf:ref}`prop-a` show ({numref}`fig-a`, {numref}`Figure %s <fig-a>`), the
error is {glue:text}`g-x:.2f`, then {glue:text}`g-s` {cite}`mao2026analytical`; see
{doc}`../notation` and {func}`~ribbonlib.cloud.covariance`.

$$
x = 1
$$ (eq-a)

```{prf:proposition} Title
:label: prop-a

Statement.
```

```{exercise} Try it (basic)
:label: ex-a

Do the thing.
```

````{solution} ex-a
:class: dropdown

The answer is forty-two, as the code shows.

```python
print(42)
```
````
"""


def test_myst_becomes_jupyter_markdown() -> None:
    conv = _converter()
    md = conv.convert(SOURCE, "instructor")
    for expected in ("As (2.1) and Proposition 2.3 show (Fig. 2.4, Figure 2.4)", "the\nerror is 0.12, then 1.2×10⁻⁸",
                     "[Mao et al., 2026](https://example.org/book/references.html)",
                     "(https://example.org/book/notation.html)", "`covariance()`", "x = 1\n\\tag{2.1}\n$$",
                     "**Proposition 2.3** (Title). Statement.", "**Exercise 2.1** (Try it (basic)).",
                     "**Solution to Exercise 2.1.**", "The answer is forty-two", "```python\nprint(42)\n```"):
        assert expected in md, f"{expected!r} not in:\n{md}"
    assert "{" not in md.replace("\\tag{2.1}", ""), md
    assert "(sec-a)=" not in md
    assert conv.solutions and "forty-two" in conv.solutions[0][1] and "Do the thing" in conv.solutions[0][0]


def test_student_markdown_has_no_solution() -> None:
    md = _converter().convert(SOURCE, "student")
    assert "**Exercise 2.1**" in md and "Do the thing." in md
    assert "forty-two" not in md and "Solution" not in md and "print(42)" not in md


def test_api_docstrings_cite_only_documented_names():
    """The API page renders the public members of each module it lists, and the strict
    build fails on a cross-reference it cannot resolve: a public docstring may name a
    private helper only as code (````_up````), never as ``:func:`_up```."""
    import importlib
    import inspect

    modules = re.findall(r"^\.\. automodule:: (\S+)\n   :members:", (ROOT / "api.md").read_text(), re.M)
    assert "ribbonlib.phase" in modules
    role = re.compile(r":(?:func|class|meth|attr|data|obj):`~?(?:[\w.]*\.)?(_\w*)`")
    bad = []
    for name in modules:
        mod = importlib.import_module(name)
        for member, obj in vars(mod).items():
            if member.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            for what, doc in [(member, inspect.getdoc(obj))] + [
                (f"{member}.{m}", inspect.getdoc(f))
                for m, f in vars(obj).items()
                if inspect.isclass(obj) and not m.startswith("_") and callable(f)
            ]:
                bad += [f"{name}.{what}: {hit}" for hit in role.findall(doc or "")]
    assert not bad, "public docstrings cite private names: " + ", ".join(bad)
