#!/usr/bin/env python3
"""Fuzz convsweep's readers with mutated inputs: sweep files, run directories and packages.

Each mutant is made from a shipped file (seeded, so a campaign is repeatable) and given to the
convsweep executable in a process of its own, with a time limit; the campaign counts how each
process ended. A reader must end every one of them with an exit status (0, or 64/65 for bad
input, 1 for another refusal), never a signal or a hang; a mutated package must never verify
unless the mutation left its checked bytes unchanged.

    benchmarks/fuzz-inputs [--binary PATH] [--sweeps N] [--runs N] [--packages N] [--seed S]
                           [--timeout SECONDS] [--json]

The suite runs a seeded subset (Tests/CommandLineTests/FuzzTests.swift); docs/benchmarks.md holds
a full campaign's counts.
"""

import argparse
import collections
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ODD_NUMBERS = [
    "0", "-1", "-5", "1.5", "0.0000001", "1e-320", "99999999", "46341", "2147483648",
    "9223372036854775807", "-9223372036854775808", "2 * 9223372036854775807", "1e308", "-1e308",
    "nan", "inf", "-inf", "", "abc", "0x10", "1_000", "１２", "1e3",
]

NUMBER = re.compile(r"(?<![A-Za-z_])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def mutate_text(text, rng, numbers=True):
    """One mutation of a text file (a sweep, a manifest, a CSV)."""
    lines = text.split("\n")
    choice = rng.randrange(12 if numbers else 9)
    if choice == 0 and len(lines) > 1:  # delete a line
        del lines[rng.randrange(len(lines))]
    elif choice == 1:  # duplicate a line
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif choice == 2 and len(lines) > 2:  # swap two lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif choice == 3:  # truncate
        return text[: rng.randrange(len(text) + 1)]
    elif choice == 4:  # flip a byte
        if text:
            i = rng.randrange(len(text))
            return text[:i] + chr(rng.choice([0, 9, 10, 13, 34, 39, 44, 58, 91, 123, 0xFEFF, rng.randrange(32, 127)])) + text[i + 1 :]
    elif choice == 5:  # indentation
        i = rng.randrange(len(lines))
        lines[i] = ("  " + lines[i]) if rng.random() < 0.5 else lines[i].lstrip()
    elif choice == 6:  # YAML/JSON garbage
        i = rng.randrange(len(lines) + 1)
        lines.insert(i, rng.choice(["{", "[", ": :", "&a [*a, *a]", "!!binary AAAA", "<<: *x", "---", "\t", "\"", "]]]"]))
    elif choice == 7:  # an alias bomb (billion laughs, 9 levels of 9)
        bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        for k in range(1, 9):
            bomb.append(f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]")
        lines = bomb + lines
    elif choice == 8:  # a huge line
        i = rng.randrange(len(lines))
        lines[i] = lines[i] + rng.choice([",", " ", "x", "("]) * rng.choice([1000, 100000])
    elif choice == 9:  # an odd number
        spots = [(i, m) for i, line in enumerate(lines) for m in NUMBER.finditer(line)]
        if spots:
            i, m = rng.choice(spots)
            lines[i] = lines[i][: m.start()] + rng.choice(ODD_NUMBERS) + lines[i][m.end() :]
    elif choice == 10:  # deep nesting or a long sum in place of a number
        spots = [(i, m) for i, line in enumerate(lines) for m in NUMBER.finditer(line)]
        if spots:
            i, m = rng.choice(spots)
            n = rng.choice([70, 1000, 10000, 50000])
            value = "(" * n + "1" + ")" * n if rng.random() < 0.5 else "1" + "+1" * n
            lines[i] = lines[i][: m.start()] + '"' + value + '"' + lines[i][m.end() :]
    else:  # a number scaled
        spots = [(i, m) for i, line in enumerate(lines) for m in NUMBER.finditer(line)]
        if spots:
            i, m = rng.choice(spots)
            try:
                value = float(m.group()) * rng.choice([10, 1000, -1, 0.5, 1e6])
                lines[i] = lines[i][: m.start()] + repr(value) + lines[i][m.end() :]
            except ValueError:
                pass
    return "\n".join(lines)


def mutate_csv(text, rng):
    """One mutation of a CSV file: cells, columns, rows."""
    lines = text.split("\n")
    header = lines[0].split(",")
    choice = rng.randrange(8)
    if choice == 0:  # a cell
        i = rng.randrange(1, max(2, len(lines) - 1))
        if i < len(lines) and lines[i]:
            cells = lines[i].split(",")
            j = rng.randrange(len(cells))
            cells[j] = rng.choice(ODD_NUMBERS + ["1e308", "-5", "0", "nan", "inf", "ok", "refused", '"', "a,b"])
            lines[i] = ",".join(cells)
    elif choice == 1:  # a duplicated column name
        j = rng.randrange(len(header))
        header.insert(rng.randrange(len(header) + 1), header[j])
        lines[0] = ",".join(header)
    elif choice == 2:  # a column removed from the header
        del header[rng.randrange(len(header))]
        lines[0] = ",".join(header)
    elif choice == 3:  # very many columns
        lines[0] = lines[0] + "," * rng.choice([600, 1000000])
    elif choice == 4:  # a duplicated row
        if len(lines) > 2:
            i = rng.randrange(1, len(lines) - 1)
            lines.insert(i, lines[i])
    elif choice == 5:  # rows removed
        keep = rng.randrange(1, len(lines) + 1)
        lines = lines[:keep]
    else:
        return mutate_text(text, rng)
    return "\n".join(lines)


def run(binary, args, cwd, timeout, env):
    """Runs convsweep; (outcome, seconds): 'exit N', 'signal NAME' or 'timeout'."""
    start = time.monotonic()
    try:
        done = subprocess.run(
            [binary] + args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start, ""
    seconds = time.monotonic() - start
    if done.returncode < 0:
        return f"signal {signal.Signals(-done.returncode).name}", seconds, done.stderr.decode(errors="replace")[-400:]
    return f"exit {done.returncode}", seconds, done.stderr.decode(errors="replace")[-400:]


def changes_content(name, original, text):
    """Whether an edit changes what a file states: JSON compared as values, CSV as rows of cells,
    numbers as numbers (white space around a value, a missing last newline, blank lines or `0.0`
    for `0` change nothing), other text as bytes. An edit that changes nothing a reader sees may verify."""
    import csv
    import io
    if name.endswith(".json"):
        try:
            return json.loads(original) != json.loads(text)
        except ValueError:
            return True
    if name.endswith(".csv"):
        def cell(text):  # a number as a number (0 and 0.0 alike, as JSON's 3 and 3.0)
            try:
                value = float(text)
            except ValueError:
                return text
            return "nan" if value != value else value

        def rows(t):
            return [[cell(c) for c in row] for row in csv.reader(io.StringIO(t)) if row]
        try:
            return rows(original) != rows(text)
        except csv.Error:
            return True
    return original != text


def mutated_copy(base, directory, names, rng):
    """Copies the directory `base` to `directory` and mutates one of its files, drawn from `names`,
    once or twice; (the file's name, its original text, its mutated text)."""
    shutil.copytree(base, directory)
    name = rng.choice(names)
    path = os.path.join(directory, name)
    with open(path) as f:
        original = f.read()
    text = original
    for _ in range(rng.choice([1, 1, 2])):
        text = mutate_csv(text, rng) if name.endswith(".csv") else mutate_text(text, rng)
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
        f.write(text)
    return name, original, text


def write_sums(package):
    lines = []
    for folder, _, names in os.walk(package):
        for name in names:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, package)
            if relative == "SHA256SUMS" or not os.path.isfile(path) or os.path.islink(path):
                continue
            with open(path, "rb") as f:
                lines.append((relative, hashlib.sha256(f.read()).hexdigest()))
    with open(os.path.join(package, "SHA256SUMS"), "w") as f:
        f.write("".join(f"{digest}  {relative}\n" for relative, digest in sorted(lines)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/convsweep"))
    parser.add_argument("--sweeps", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--packages", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--package", default=os.path.join(ROOT, "results/amd-epyc-2pu/quick"),
                        help="the package whose mutants (and whose run/) are checked (default: the committed quick package, format 1; give a package `scripts/replicate` wrote for format 2)")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.add_argument("--keep", help="copy each failing mutant (file or directory) into this directory")
    options = parser.parse_args()
    rng = random.Random(options.seed)
    work = tempfile.mkdtemp(prefix="convsweep-fuzz-")
    env = dict(os.environ, CONVSWEEP_LOCK_DIR=os.path.join(work, "locks"), CONVSWEEP_CACHE_DIR=os.path.join(work, "cache"))
    os.mkdir(os.path.join(work, "locks"), 0o700)
    counts = {kind: collections.Counter() for kind in ("sweeps", "runs", "packages")}
    bad = []  # (kind, outcome, what, message)
    slowest = {kind: 0.0 for kind in counts}
    by_command = collections.Counter()  # runs: "command: outcome"
    exit1_examples = []

    def keep(path):
        if options.keep:
            os.makedirs(options.keep, exist_ok=True)
            target = os.path.join(options.keep, os.path.basename(path))
            (shutil.copytree if os.path.isdir(path) else shutil.copy)(path, target)

    def record(kind, outcome, seconds, what, message, path):
        counts[kind][outcome] += 1
        slowest[kind] = max(slowest[kind], seconds)
        if outcome.startswith("signal") or outcome == "timeout" or outcome not in ("exit 0", "exit 1", "exit 64", "exit 65"):
            bad.append((kind, outcome, what, message))
            keep(path)

    try:
        bases = []
        for folder in ("sweeps", "sweeps/quick", "sweeps/networks"):
            for name in sorted(os.listdir(os.path.join(ROOT, folder))):
                if name.endswith(".yaml"):
                    with open(os.path.join(ROOT, folder, name)) as f:
                        bases.append((f"{folder}/{name}", f.read()))
        for i in range(options.sweeps):
            origin, text = rng.choice(bases)
            for _ in range(rng.choice([1, 1, 2, 3])):
                text = mutate_text(text, rng)
            path = os.path.join(work, f"sweep-{i}.yaml")
            with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(text)
            outcome, seconds, message = run(options.binary, ["sweeps", "expand", path], work, options.timeout, env)
            record("sweeps", outcome, seconds, f"{origin} mutant {i}", message, path)
            os.remove(path)

        base_run = os.path.join(options.package, "run")
        files = ["measurements.csv", "measurements.csv", "measurements.csv", "manifest.json", "rounds.csv", "probes.csv"]
        commands = [["fit", "{run}", "--out", "{out}/fit.json"], ["ranks", "{run}"], ["compare", "{base}", "{run}"],
                    ["merge", "{run}", "--out", "{out}/merged"]]
        for i in range(options.runs):
            directory = os.path.join(work, f"run-{i}")
            name, _, _ = mutated_copy(base_run, directory, files, rng)
            command = [a.format(run=directory, out=os.path.join(work, f"out-{i}"), base=base_run) for a in rng.choice(commands)]
            os.makedirs(os.path.join(work, f"out-{i}"))
            outcome, seconds, message = run(options.binary, command, work, options.timeout, env)
            record("runs", outcome, seconds, f"{name} mutant {i}: {command[0]}", message, directory)
            by_command[f"{command[0]}: {outcome}"] += 1
            if outcome == "exit 1" and len(exit1_examples) < 5:
                exit1_examples.append(f"{name} mutant {i}: {command[0]}: {message.strip()[-200:]}")
            shutil.rmtree(directory)
            shutil.rmtree(os.path.join(work, f"out-{i}"))

        base_package = options.package
        targets = ["package.json", "fit/alpha.json", "fit/predictions.csv", "fit/errors.csv", "fit/models.json",
                   "fit/cv-predictions.csv", "data/regression.csv", "data/exp-a.csv", "README.md", "manifest.json",
                   "run/measurements.csv", "run/manifest.json"]
        # Every other file a figure of the package derives from or states: the model table's, the
        # networks', the threads', the comparison's. Not the figures (checked by their sums alone:
        # matplotlib's output differs between versions) nor the raw files of the runs
        # (run/rounds.csv, run/probes.csv, compare/other/): a figure uses some of their columns
        # (recomputed), the rest (a round's p25, a reading's seconds) only their sums hold.
        for folder, _, names in os.walk(base_package):
            for name in names:
                relative = os.path.relpath(os.path.join(folder, name), base_package)
                if (relative.split(os.sep)[0] in ("fit", "networks", "threads", "compare", "data")
                        and not relative.startswith(os.path.join("compare", "other"))
                        and relative.endswith((".csv", ".json", ".yaml")) and relative not in targets):
                    targets.append(relative)
        targets = sorted(name for name in targets if os.path.isfile(os.path.join(base_package, name)))
        for i in range(options.packages):
            directory = os.path.join(work, f"package-{i}")
            name, original, text = mutated_copy(base_package, directory, targets, rng)
            write_sums(directory)
            outcome, seconds, message = run(options.binary, ["verify-package", directory], work, options.timeout, env)
            changed = changes_content(name, original, text)
            record("packages", outcome, seconds, f"{name} mutant {i}", message, directory)
            if outcome == "exit 0" and changed:
                bad.append(("packages", "verified though edited", f"{name} mutant {i}", ""))
                counts["packages"]["verified though edited"] += 1
                keep(directory)
            shutil.rmtree(directory)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "seed": options.seed, "binary": options.binary,
        "counts": {kind: dict(counter) for kind, counter in counts.items()},
        "slowest_seconds": {kind: round(seconds, 2) for kind, seconds in slowest.items()},
        "runs_by_command": dict(by_command), "exit1_examples": exit1_examples,
        "failures": [{"kind": k, "outcome": o, "what": w, "stderr": m} for k, o, w, m in bad],
    }
    if options.json:
        print(json.dumps(result, indent=1))
    else:
        for kind, counter in counts.items():
            total = sum(v for k, v in counter.items() if k != "verified though edited")
            shown = ", ".join(f"{k}: {v}" for k, v in sorted(counter.items()))
            print(f"{kind}: {total} mutants; {shown}; slowest {slowest[kind]:.2f} s")
        print("runs by command: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_command.items())))
        for example in exit1_examples:
            print(f"exit 1, e.g. {example}")
        for k, o, w, m in bad[:40]:
            print(f"FAIL {k}: {o}: {w}: {m.strip()[-300:]}")
        print(f"fuzz: {len(bad)} failure(s) (signals, timeouts, other exits, edited packages that verified)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
