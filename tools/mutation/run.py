"""Mutation score of ribbonlib's numeric modules against the unit and property tests.

``make mutation`` runs this. It drives mutmut (pinned in constraints.txt; its settings,
which modules and which tests, are ``[tool.mutmut]`` in pyproject.toml) and prints, per
module and in total, how many of the mutants the tests kill.

Which mutants. The measure is the one of issue 16: small changes to arithmetic and
constants in the numeric code, one at a time. Of mutmut's operators only those are
kept: a number literal ``c -> c + 1``; an operator swapped (``+ -``, ``* /``,
``** -> *``, ``< <=``, ``== !=``, ``and or``, unary ``- +``, ...); ``not`` or ``~``
dropped; ``x += y -> x = y``; ``True False``; ``is``/``in`` negated, ``break`` and
``continue`` swapped; a conditional expression forced to one branch. mutmut's other
operators (replace a call argument or an assigned value by ``None``, drop an argument,
change a string literal) are not generated: a ``None`` makes the code crash rather
than compute a wrong number, and a string literal in these modules is an argument
name for an error message, a key or a mode. ``raise`` statements are not mutated at
all (pyproject), and mutmut never mutates docstrings or annotations. Module-level
constants are not mutated either (mutmut only mutates inside functions).

Which tests. tools/mutation/pytest_plugin.py collects the test files that import a
mutated module (the unit and property tests) and stops a failing property test at its
first counter-example instead of shrinking it.

How they are counted. killed = a test failed, or the tests crashed or timed out (ran
for more CPU time than pyproject allows; shown apart, since a mutant that only makes
the code slower is caught by the clock rather than by a test); survived = every test
that calls the function passed; no tests = no selected test calls the function (a
survivor too). A survivor that tests/mutation_survivors.md lists as equivalent (it
computes the same values on the whole domain its function documents) leaves the
denominator:

    score = killed / (mutants - listed equivalents)

Timeouts. mutmut also stops a mutant after half of its CPU limit in *wall* time,
which on a busy machine (and at ``nice 19``) stops mutants whose tests merely waited
for a core, and counts them as killed. This driver widens the wall clock WALL_FACTOR
times, so that the CPU limit decides and a busy machine cannot raise the score.
``--retest-timeouts`` tests the timed-out mutants of a run again (one made before this
change, or on a starved machine). ``--retest-survivors`` tests the survivors and the
timeouts again after tests were added: as long as no test was removed or weakened, a
killed mutant stays killed, so this gives the verdicts of a fresh run (mutmut itself
re-tests every mutant of a function whose code changed).

Usage (from the repository root, with the project's .venv)::

    python tools/mutation/run.py                  # every numeric module, fresh run
    python tools/mutation/run.py bounds phase     # some modules
    python tools/mutation/run.py --sample 40      # 40 mutants per module (seeded)
    python tools/mutation/run.py --report         # re-read the last run, no testing
    python tools/mutation/run.py --resume         # finish an interrupted run
    python tools/mutation/run.py --retest-timeouts bounds  # re-test the timeouts
    python tools/mutation/run.py --retest-survivors bounds # after adding tests

A run starts from scratch (mutants/ is deleted): mutmut keeps old verdicts when only
the tests changed, which would make a stale score look current. ``--resume`` keeps
them, for a run that was stopped while neither the tests nor the code changed. Every
run writes mutants/ribbon-survivors.txt, the diff lines of every survivor not listed as
equivalent, grouped by module and function.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SURVIVORS_FILE = Path("tests") / "mutation_survivors.md"
WORK = Path("mutants")
LISTING = WORK / "ribbon-survivors.txt"
SUMMARY = WORK / "ribbon-summary.json"

KILLED = {"killed", "timeout", "segfault", "caught by type check"}
NOT_KILLED = {"survived", "no tests", "suspicious"}
UNFINISHED = {"not checked", "skipped", "check was interrupted by user"}


def restrict_operators() -> None:
    """Keep only mutmut's arithmetic, comparison, logic and constant operators."""
    import mutmut.mutation.mutators as mutators

    keep = {
        mutators.operator_number,
        mutators.operator_swap_op,
        mutators.operator_remove_unary_ops,
        mutators.operator_augmented_assignment,
        mutators.operator_name,
        mutators.operator_keywords,
        mutators.operator_if_exp,
    }
    # file_mutation imported this very list object, so it is filtered in place.
    mutators.mutation_operators[:] = [
        (node_type, op) for node_type, op in mutators.mutation_operators if op in keep
    ]


#: mutmut's wall-clock limit, ``(t + timeout_constant) * timeout_multiplier`` for tests
#: that took ``t`` seconds without a mutant, is multiplied by this. Its CPU limit (twice
#: the wall limit, in CPU seconds) is left as it is and stops a looping mutant; the wall
#: clock only remains for a mutant that blocks without using the CPU.
WALL_FACTOR = 20.0


def widen_wall_clock() -> None:
    """Make mutmut's wall-clock timeout WALL_FACTOR times longer (its CPU limit stays)."""
    import mutmut.workers.isolation as isolation

    plain = isolation.register_timeout
    if getattr(plain, "widened", False):
        return

    def register_timeout(pid: int, timeout_s: float) -> None:
        plain(pid, timeout_s * WALL_FACTOR)

    register_timeout.widened = True  # type: ignore[attr-defined]
    isolation.register_timeout = register_timeout


def clear_verdicts(modules: list[str], statuses: set[str]) -> int:
    """Clear the verdict of every mutant whose status is in ``statuses``, so that the
    next run tests it again; return how many."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code

    cleared = 0
    for mod in modules:
        data = SourceFileMutationData(path=Path("ribbonlib") / f"{mod}.py")
        data.load()
        for key, code in data.exit_code_by_key.items():
            if code is not None and status_by_exit_code[code] in statuses:
                data.exit_code_by_key[key] = None
                cleared += 1
        data.save()
    return cleared


def modules_to_mutate() -> list[str]:
    """Module names (``bounds``, ...) from ``only_mutate`` in pyproject.toml."""
    from mutmut.configuration import config

    return [Path(p).stem for p in config().only_mutate]


def generate_mutants() -> None:
    """Write the mutated sources into mutants/ (the first step of ``mutmut run``)."""
    import mutmut.__main__ as mm

    os.makedirs(WORK, exist_ok=True)
    mm.copy_src_dir()
    mm.copy_also_copy_files()
    mm.setup_source_paths()
    mm.create_mutants(1)


def skip_all_but_a_sample(modules: list[str], size: int, seed: int) -> None:
    """Mark every mutant outside a seeded sample of ``size`` per module as skipped.

    mutmut does not test a mutant that already has a verdict, so the skipped ones are
    left alone; the report then counts the sample only.
    """
    from mutmut.mutation.data import SourceFileMutationData

    for mod in modules:
        data = SourceFileMutationData(path=Path("ribbonlib") / f"{mod}.py")
        data.load()
        keys = sorted(data.exit_code_by_key)
        chosen = set(random.Random(f"{seed}:{mod}").sample(keys, min(size, len(keys))))
        data.exit_code_by_key = {k: (None if k in chosen else 34) for k in keys}
        data.save()


def load_results(modules: list[str]) -> dict[str, dict[str, int | None]]:
    """Exit code of every mutant, by module."""
    from mutmut.mutation.data import SourceFileMutationData

    out = {}
    for mod in modules:
        data = SourceFileMutationData(path=Path("ribbonlib") / f"{mod}.py")
        data.load()
        out[mod] = dict(data.exit_code_by_key)
    return out


def function_of(mutant: str) -> str:
    """``ribbonlib.bounds.x__core_S__mutmut_3`` -> ``_core_S``; ``Class.method``."""
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    name, cls = orig_function_and_class_names_from_key(mutant)
    return f"{cls}.{name}" if cls else name


def changed_lines(mutant: str, mod: str) -> tuple[str, str]:
    """The removed and the added source lines of a mutant, each joined into one line."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    diff = get_diff_for_mutant(mutant, path=Path("ribbonlib") / f"{mod}.py")
    old, new = [], []
    for line in diff.splitlines()[2:]:
        if line.startswith("-"):
            old.append(line[1:].strip())
        elif line.startswith("+"):
            new.append(line[1:].strip())
    return " ".join(old), " ".join(new)


def normalise(code: str) -> str:
    return re.sub(r"\s+", " ", code).strip()


@dataclass
class Entry:
    """One equivalent change listed in tests/mutation_survivors.md.

    ``module`` and ``function`` may be ``*`` (any). The entry covers a mutant of that
    function whose added line is its removed line with one occurrence of ``old``
    replaced by ``new`` (so ``old`` and ``new`` are either the whole lines or the
    changed fragment of them).
    """

    module: str
    function: str
    old: str
    new: str
    line: int
    matched: int = 0  # mutants it covered
    killed: int = 0  # of which the tests killed

    def covers(self, module: str, function: str, old: str, new: str) -> bool:
        if self.module not in ("*", module) or self.function not in ("*", function):
            return False
        old, new = normalise(old), normalise(new)
        i = old.find(self.old)
        while i >= 0 and self.old:
            if old[:i] + self.new + old[i + len(self.old):] == new:
                return True
            i = old.find(self.old, i + 1)
        return False


ENTRY = re.compile(
    r"^- `(?P<mod>\w+|\*)\.(?P<func>[\w.]+|\*)`: `(?P<old>[^`]+)` → `(?P<new>[^`]*)`"
)


def read_equivalents(path: Path) -> list[Entry]:
    """Parse the entries (``- `module.function`: `old` → `new` ...``) of the file."""
    if not path.exists():
        return []
    entries = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = ENTRY.match(line)
        if m:
            entries.append(Entry(m["mod"], m["func"], normalise(m["old"]),
                                 normalise(m["new"]), i))
    return entries


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a proportion k/n (for sampled runs)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def weighted_estimate(population: dict, counts: dict) -> tuple | None:
    """Score of the whole population from a sample stratified by module.

    Each module's sampled score is weighted by its share of all mutants; the variance
    is the stratified one with the finite-population correction, and the interval the
    normal 95% one, clipped to [0, 1]. ``None`` if no module has a sampled mutant.
    """
    strata = {}
    for mod, c in counts.items():
        n = c["mutants"] - c["equivalent"]
        # equivalents leave the population in the same proportion as in the sample
        N = population[mod] * n / c["mutants"] if c["mutants"] else 0.0
        if n > 0:
            strata[mod] = (N, n, c["killed"] / n)
    total = sum(N for N, _, _ in strata.values())
    if not strata or total <= 0:
        return None
    est = sum(N * p for N, _, p in strata.values()) / total
    var = sum((N / total) ** 2 * p * (1 - p) / max(n - 1, 1) * max(1 - n / N, 0.0)
              for N, n, p in strata.values())
    half = 1.96 * math.sqrt(var)
    return est, max(0.0, est - half), min(1.0, est + half)


def report(modules: list[str], every_module: bool, sampled: bool,
           elapsed: float | None) -> int:
    """Print the scores, write the survivor listing; return how many are undecided."""
    from mutmut.stats import status_by_exit_code

    results = load_results(modules)
    entries = read_equivalents(SURVIVORS_FILE)

    rows, survivors, unfinished = [], defaultdict(list), 0
    totals = defaultdict(int)
    for mod in modules:
        count = defaultdict(int)
        listed = [e for e in entries if e.module in ("*", mod)]
        for mutant, code in sorted(results[mod].items()):
            status = status_by_exit_code[code]
            if status in UNFINISHED:
                unfinished += not (sampled and status == "skipped")
                continue
            func = function_of(mutant)
            candidates = [e for e in listed if e.function in ("*", func)]
            diff = None
            if candidates or status in NOT_KILLED:
                diff = changed_lines(mutant, mod)
            match = next((e for e in candidates if e.covers(mod, func, *diff)), None)
            count["mutants"] += 1
            if match is not None:
                match.matched += 1
                match.killed += status in KILLED
            if status in KILLED:
                count["killed"] += 1
                count["timeout"] += status == "timeout"
            elif match is not None:
                count["equivalent"] += 1
            else:
                count["no tests" if status == "no tests" else "survived"] += 1
                survivors[mod].append((func, mutant, status, diff))
        for k, v in count.items():
            totals[k] += v
        rows.append((mod, count))
    rows.append(("total", totals))

    header = (f"{'module':<12} {'mutants':>7} {'killed':>7} {'(timeout)':>9} "
              f"{'survived':>8} {'no tests':>8} {'equiv.':>6} {'score':>7}")
    print()
    print("Mutation score: killed / (mutants - listed equivalents)"
          + (", on a seeded sample (95% interval)" if sampled else ""))
    print(header)
    print("-" * len(header))
    summary = {}
    for mod, c in rows:
        denom = c["mutants"] - c["equivalent"]
        score = c["killed"] / denom if denom else float("nan")
        line = (f"{mod:<12} {c['mutants']:>7} {c['killed']:>7} {c['timeout']:>9} "
                f"{c['survived']:>8} {c['no tests']:>8} {c['equivalent']:>6} "
                f"{100 * score:>6.1f}%")
        if sampled and denom:
            lo, hi = wilson(c["killed"], denom)
            line += f"  [{100 * lo:.0f}, {100 * hi:.0f}]"
        print(line)
        summary[mod] = dict(c, score=score)
    if sampled:
        est = weighted_estimate({m: len(results[m]) for m in modules},
                                {m: c for m, c in rows if m != "total"})
        if est is not None:
            print(f"\nEstimate for all mutants (each module weighted by its number of "
                  f"mutants): {100 * est[0]:.1f}% [{100 * est[1]:.0f}, "
                  f"{100 * est[2]:.0f}]; the total row above weighs every module alike.")
            summary["weighted_estimate"] = est
    if elapsed is not None:
        print(f"\nTesting took {elapsed / 60:.1f} min.")
        summary["elapsed_seconds"] = elapsed

    with open(LISTING, "w", encoding="utf-8") as f:
        for mod in modules:
            if not survivors[mod]:
                continue
            f.write(f"## {mod}\n")
            last = None
            for func, mutant, status, (old, new) in sorted(survivors[mod]):
                if func != last:
                    f.write(f"\n### {mod}.{func}\n")
                    last = func
                tag = "" if status == "survived" else f"  [{status}]"
                name = mutant.rpartition(".")[2]
                f.write(f"- {name}{tag}\n    - {old}\n    + {new}\n")
            f.write("\n")
    SUMMARY.write_text(json.dumps(summary, indent=1))
    print(f"Survivors not listed as equivalent: {LISTING}")

    for e in entries if not (sampled or unfinished) else []:
        if e.module not in modules and (e.module != "*" or not every_module):
            continue
        where = f"{SURVIVORS_FILE}:{e.line}"
        if not e.matched:
            print(f"{where}: no mutant makes this change any more; remove the entry")
        elif e.killed:
            print(f"{where}: listed as equivalent, but the tests kill {e.killed} of "
                  f"the {e.matched} mutants it covers; remove or narrow the entry")
    if unfinished:
        print(f"{unfinished} mutants were not decided (an interrupted run?): "
              "the score is partial")
    return unfinished


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*",
                        help="module names (default: every module in only_mutate)")
    parser.add_argument("--sample", type=int, default=0,
                        help="test this many mutants per module, drawn with --seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workers", type=int, default=1,
        help="mutants tested at once (default 1, so the machine stays usable)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the verdicts of a stopped run (same code and tests)")
    parser.add_argument("--retest-timeouts", action="store_true",
                        help="test the timed-out mutants of the last run again "
                             "(keeps every other verdict)")
    parser.add_argument("--retest-survivors", action="store_true",
                        help="test the survivors and timeouts of the last run again "
                             "against the tests as they are now (tests only added "
                             "since: the killed stay killed)")
    parser.add_argument("--report", action="store_true",
                        help="print the score of the last run without testing anything")
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    restrict_operators()
    known = modules_to_mutate()
    modules = args.modules or known
    every = set(modules) == set(known)
    unknown = sorted(set(modules) - set(known))
    if unknown:
        parser.error(f"not a mutated module: {', '.join(unknown)} "
                     f"(choose from {', '.join(known)})")

    if args.report:
        return 1 if report(modules, every, args.sample > 0, None) else 0

    from mutmut.configuration import config

    # Only the chosen modules are mutated; the others stay as they are in mutants/.
    config().only_mutate = [f"ribbonlib/{mod}.py" for mod in modules]
    fresh = not (args.resume or args.retest_timeouts or args.retest_survivors)
    if fresh:
        shutil.rmtree(WORK, ignore_errors=True)
    generate_mutants()
    if args.sample and fresh:
        skip_all_but_a_sample(modules, args.sample, args.seed)
    if args.retest_timeouts or args.retest_survivors:
        again = {"timeout"} | (NOT_KILLED if args.retest_survivors else set())
        print(f"Testing {clear_verdicts(modules, again)} mutants again "
              f"({', '.join(sorted(again))})")
    widen_wall_clock()
    print(f"Testing {'a sample of ' if args.sample else ''}the mutants of "
          f"{', '.join(modules)} with {args.workers} worker(s)")

    from mutmut.__main__ import _run

    start = time.monotonic()
    try:
        _run([], args.workers)
    except SystemExit as stop:
        if stop.code:
            print("mutmut stopped before testing the mutants (see above)")
            return 1
    elapsed = time.monotonic() - start
    return 1 if report(modules, every, args.sample > 0, elapsed) else 0


if __name__ == "__main__":
    sys.exit(main())
