"""Mutation check: would the behavioural tests notice a wrong simulator?

Each named mutation below is an error one could make in the simulator (a stream keyed
by a play's position, churn and expansion sharing their uniforms, a slope's sign, a
queue served the wrong way round, ...). For each, this script copies the package
``cs_sim`` into a temporary folder, applies the mutation to the copy (the working tree
is never touched), and runs the behavioural simulator tests against the copy (it comes
first on ``PYTHONPATH`` and the tests run from the temporary folder). A mutation is
*caught* when a test fails, and *survives* when every test passes: a survivor is a hole
in the tests. The stored-hash and regeneration tests (tests/test_synth.py and the
like) are not run: they fail on any change, right or wrong.

Run ``make mutation`` (or ``python tools/mutation_check.py``); ``--list`` shows the
mutations, ``--only NAME ...`` runs some, ``--all-tests`` runs every test for each
mutation instead of stopping at the first failure, ``--package DIR`` mutates another
copy of the package (e.g. a ``git archive`` of a commit). The package is copied once
at the start, so that every mutant starts from the same code even while the working
tree changes; the unmutated copy runs first and must pass. The exit status is 0 when
every mutation is caught, 1 when one survives, 2 when the check cannot run (the tests
fail unmutated, or a mutation's text is no longer found in the package: update the
mutation).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: the behavioural tests of the simulator, cheapest first (the run stops at a failure)
TESTS = (
    "tests/test_crn.py",
    "tests/test_sim_behaviour.py",
    "tests/test_sim_engine.py",
    "tests/test_sim_dynamics.py",
    "tests/test_sim_oracle.py",
)


@dataclass(frozen=True)
class Mutation:
    """A named error: regular-expression replacements in files of the package.

    Attributes
    ----------
    name, what : str
        Its name and what it does, in words.
    edits : tuple of (path, pattern, replacement)
        ``path`` relative to ``cs_sim/``; ``pattern`` (a regular expression) must match
        exactly once; ``replacement`` as for :func:`re.sub`.
    """

    name: str
    what: str
    edits: tuple[tuple[str, str, str], ...]


def _slope(name: str, path: str, param: str, out: str, what: str) -> Mutation:
    """Flip the sign of ``params.<param>`` where it multiplies ``x`` into ``out``."""
    pattern = rf"params\.{param}, out=({out})\)"
    return Mutation(name, what, ((path, pattern, rf"(-params.{param}), out=\1)"),))


MUTATIONS: tuple[Mutation, ...] = (
    # ------------------------------------------------------------------ the three
    Mutation("play_stream_by_position",
             "each play's random stream keyed by its position instead of its name",
             (("sim/plays.py", r"stream_key=play_stream_key\(play\.name\),",
               "stream_key=len(plays),"),)),
    Mutation("churn_expansion_one_uniform",
             "expansion and contraction decided on the churn decision's uniforms",
             (("sim/engine.py", r'model\.decide_churn\(self\._uniform\("churn", n\),',
               'model.decide_churn((self.__dict__.update(_mut_u=self._uniform("churn", n)'
               '.copy()) or self._mut_u),'),
              ("sim/engine.py", r'self\._uniform\("expansion", n\)', "self._mut_u"))),
    Mutation("churn_expansion_one_stream",
             "expansion draws the next uniforms of the churn stream (no stream of its own)",
             (("sim/engine.py", r'self\._uniform\("expansion", n\)',
               'self._uniform("churn", n)'),)),
    Mutation("half_life_x4", "a play's half-life multiplied by 4 in play compilation",
             (("sim/plays.py", r"0\.5 \*\* \(1\.0 / half_life\)",
               "0.5 ** (1.0 / (4 * half_life))"),)),
    # ------------------------------------------------------------- signs of the slopes
    _slope("churn_health_slope_sign", "sim/model.py", "health_slope", "pv",
           "churn hazard rises with health"),
    _slope("usage_health_slope_sign", "sim/model.py", "health_slope", "[vw]",
           "active share falls with health"),
    Mutation("nps_health_slope_sign", "NPS score falls with health",
             (("sim/model.py", r"params\.nps_health_slope \* x",
               "(-params.nps_health_slope) * x"),)),
    _slope("expansion_health_slope_sign", "sim/model.py", "expansion_health_slope", "pe",
           "expansion falls with health"),
    _slope("contraction_health_slope_sign", "sim/model.py", "contraction_health_slope", "pc",
           "contraction rises with health"),
    Mutation("health_reversion_sign", "health moves away from the segment's mean",
             (("sim/model.py", r"dh \*= params\.reversion", "dh *= -params.reversion"),)),
    _slope("failed_ticket_penalty_sign", "sim/model.py", "failed_ticket_penalty", "tmp",
           "failed tickets raise health"),
    Mutation("champion_penalty_sign", "a champion leaving raises health",
             (("sim/model.py", r"-= params\.champion_leave_penalty",
               "+= params.champion_leave_penalty"),)),
    Mutation("tenure_slope_sign", "churn hazard rises with tenure",
             (("sim/model.py", r"tmp \*= params\.tenure_slope / 12\.0",
               "tmp *= -params.tenure_slope / 12.0"),)),
    # -------------------------------------------------------------------- capacity queue
    Mutation("queue_lowest_priority_first", "the queue serves the highest priority number first",
             (("sim/capacity.py", r"_stable_order\(\(rep, priority, since, slot\)\)",
               "_stable_order((rep, -priority, since, slot))"),)),
    Mutation("queue_newest_first", "the queue serves the latest requests first",
             (("sim/capacity.py", r"_stable_order\(\(rep, priority, since, slot\)\)",
               "_stable_order((rep, priority, -since, slot))"),)),
    Mutation("queue_ignores_max_wait", "requests are never dropped however long they wait",
             (("sim/capacity.py", r"drop = wait > self\.max_wait\[k\]",
               "drop = wait > 10**9"),)),
    Mutation("queue_ignores_capacity", "every queued request is served, whatever the hours",
             (("sim/capacity.py", r"served = within <= capacity_u\[r\]",
               "served = within >= 0"),)),
    # ---------------------------------------------------------------------------- streams
    Mutation("churn_key_shifted", "churn's stream key shifted onto expansion's",
             (("sim/rng.py", r"_generator\(seed, \(rep, c\)\) for c, name",
               '_generator(seed, (rep, c + (name == "churn"))) for c, name'),)),
    Mutation("usage_key_shifted", "usage's stream key shifted onto support's",
             (("sim/rng.py", r"_generator\(seed, \(rep, c\)\) for c, name",
               '_generator(seed, (rep, c + (name == "usage"))) for c, name'),)),
    Mutation("play_key_off_base", "plays' streams keyed without their key base",
             (("sim/rng.py", r"\(rep, PLAY_KEY_BASE \+ key\)", "(rep, key)"),)),
    # ------------------------------------------------------------------ plays and churn
    Mutation("reach_ignored", "a play reaches every due account whatever its reach",
             (("sim/playsteps.py", r"\) < p\.reach", ") < 1.0"),)),
    Mutation("start_month_ignored", "plays run before their start_month",
             (("sim/plays.py", r"start=play\.start_month,", "start=None,"),)),
    Mutation("cooldown_ignored", "data-based plays fire again the next month",
             (("sim/model.py", r"\(month - last_fire\) >= max\(cooldown, 1\)",
               "(month - last_fire) >= 1"),)),
    Mutation("wait_decay_ignored", "a delivery's effect does not shrink while it waits",
             (("sim/model.py", r"return \(1\.0 - wait_decay\) \*\* wait",
               "return (1.0 - 0.0 * wait_decay) ** wait"),)),
    Mutation("annual_decides_monthly", "annual contracts may churn every month",
             (("sim/model.py", r"decide = (?:np\.greater\(active, annual\)|active & ~annual)",
               "decide = active.copy()"),)),
)


@dataclass
class Outcome:
    """What happened to one mutation."""

    name: str
    status: str  # caught, survived, error
    detail: str
    seconds: float


def _copy_package(dest: Path, source: Path = REPO / "cs_sim") -> Path:
    pkg = dest / "cs_sim"
    shutil.copytree(source, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return pkg


def _apply(pkg: Path, mutation: Mutation) -> None:
    for path, pattern, replacement in mutation.edits:
        file = pkg / path
        text = file.read_text()
        new, count = re.subn(pattern, replacement, text)
        if count != 1:
            raise LookupError(f"{mutation.name}: {pattern!r} matches {count} times in "
                              f"cs_sim/{path} (expected once): update the mutation")
        file.write_text(new)


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run_tests(root: Path, tests: list[str], *, stop: bool, timeout: float) -> tuple[int, str]:
    """Run the tests against the package copy in ``root``; return status and output."""
    env = _env(root)
    where = subprocess.run([sys.executable, "-c", "import cs_sim; print(cs_sim.__file__)"],
                           cwd=root, env=env, capture_output=True, text=True, check=True)
    if not where.stdout.strip().startswith(str(root)):
        raise RuntimeError(f"the copy is not the package imported: {where.stdout.strip()}")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header",
           "-rf", *(["-x"] if stop else []), *(str(REPO / t) for t in tests)]
    try:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, "timed out"
    return proc.returncode, proc.stdout + proc.stderr


def _failed(output: str) -> list[str]:
    names = re.findall(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.MULTILINE)
    return [n.split("tests/")[-1] for n in names]


def check(mutation: Mutation | None, source: Path, tests: list[str], *, stop: bool,
          timeout: float) -> Outcome:
    """Apply ``mutation`` (None: none) to a copy of ``source`` and run the tests."""
    start = time.perf_counter()
    name = "(unmutated)" if mutation is None else mutation.name
    with tempfile.TemporaryDirectory(prefix="cs_sim_mutant_") as tmp:
        root = Path(tmp)
        pkg = _copy_package(root, source)
        if mutation is not None:
            try:
                _apply(pkg, mutation)
            except LookupError as exc:
                return Outcome(name, "error", str(exc), time.perf_counter() - start)
        code, output = _run_tests(root, tests, stop=stop, timeout=timeout)
    seconds = time.perf_counter() - start
    if code == 0:
        return Outcome(name, "survived", "all tests pass", seconds)
    if code == -1:
        return Outcome(name, "caught", "timed out", seconds)
    failed = _failed(output)
    if code == 1 and failed:
        return Outcome(name, "caught", ", ".join(failed), seconds)
    tail = "\n".join(output.strip().splitlines()[-15:])
    return Outcome(name, "error", f"pytest exit {code}:\n{tail}", seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these mutations only")
    parser.add_argument("--all-tests", action="store_true",
                        help="run every test for each mutation (default: stop at a failure)")
    parser.add_argument("--package", type=Path, default=REPO / "cs_sim",
                        help="the package to mutate (default: this checkout's cs_sim)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds per test run (a mutant that hangs counts as caught)")
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:32s} {m.what}")
        return 0
    chosen = list(MUTATIONS)
    if args.only:
        unknown = set(args.only) - {m.name for m in MUTATIONS}
        if unknown:
            parser.error(f"unknown mutation(s): {', '.join(sorted(unknown))} (see --list)")
        chosen = [m for m in MUTATIONS if m.name in args.only]
    tests = list(TESTS)
    began = time.perf_counter()
    print(f"tests: {' '.join(tests)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cs_sim_snapshot_") as snap:
        # one snapshot of the package, so that every mutant starts from the same code
        source = _copy_package(Path(snap), args.package)
        clean = check(None, source, tests, stop=False, timeout=args.timeout)
        print(f"unmutated copy: {clean.status} ({clean.seconds:.0f} s)", flush=True)
        if clean.status != "survived":
            print(f"the tests fail without a mutation; fix them first:\n{clean.detail}")
            return 2
        outcomes = _check_all(chosen, source, tests, stop=not args.all_tests,
                              timeout=args.timeout)
    _report(outcomes, time.perf_counter() - began)
    if any(o.status == "error" for o in outcomes):
        return 2
    return 0 if all(o.status == "caught" for o in outcomes) else 1


def _check_all(chosen: list[Mutation], source: Path, tests: list[str], *, stop: bool,
               timeout: float) -> list[Outcome]:
    outcomes = []
    for m in chosen:
        out = check(m, source, tests, stop=stop, timeout=timeout)
        outcomes.append(out)
        print(f"  {out.name:32s} {out.status:8s} {out.seconds:5.0f} s  {out.detail}", flush=True)
    return outcomes


def _report(outcomes: list[Outcome], seconds: float) -> None:
    """The table: each mutation, whether it was caught, and by which tests."""
    width = max([8, *(len(o.name) for o in outcomes)])
    print(f"\n{'mutation':{width}s}  {'result':8s}  {'time':>6s}  caught by")
    for o in outcomes:
        first = o.detail.splitlines()[0] if o.detail else ""
        print(f"{o.name:{width}s}  {o.status:8s}  {o.seconds:5.0f}s  {first}")
    n_caught = sum(o.status == "caught" for o in outcomes)
    print(f"\n{n_caught} of {len(outcomes)} mutations caught in {seconds:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
