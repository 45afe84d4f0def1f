"""Reading convsweep's rows from Python: the one reader the repository's scripts share.

    import sys; sys.path.insert(0, "python")   # from the repository root
    import convsweep_rows

    rows = convsweep_rows.read(PATH)            # every row, as dicts of strings
    ok = convsweep_rows.measured(PATH)          # {config_id: row} of the rows with status ok
    convsweep_rows.time_ms(row)                 # the row's time (median_ms), a float
    convsweep_rows.rounds(PATH)                 # the rounds behind the rows (rounds.csv), or []
    convsweep_rows.probes(PATH)                 # the drift probe's readings (probes.csv), or []
    convsweep_rows.manifest(PATH)               # the run's manifest.json as a dict, or None
    convsweep_rows.table(FILE)                  # any other CSV of a package (networks/, fit/, compare/)

PATH is a run directory (its measurements.csv), a package (every data/*.csv, in name order, its
run in run/) or a CSV file with the columns of measurements.csv (docs/run-directory.md): the
same resolution as convsweep's own (`RowSource` in Sources/Rows). A row that is not measured
(status other than ok: dropped, impossible, out of memory, failed verification) has no time:
`measured` leaves it out, and `time_ms` raises ValueError naming it.
"""
import csv
import glob
import json
import os


def files(path):
    """The CSV files holding the rows of PATH."""
    if os.path.isdir(path):
        run = os.path.join(path, "measurements.csv")
        if os.path.exists(run):
            return [run]
        data = sorted(glob.glob(os.path.join(path, "data", "*.csv")))
        if data:
            return data
        raise FileNotFoundError(f"{path}: neither a run directory (measurements.csv) nor a package (data/*.csv)")
    return [path]


def run_directory(path):
    """The directory of the run behind PATH (a package's run/), or None for a CSV file."""
    if not os.path.isdir(path):
        return None
    if os.path.exists(os.path.join(path, "measurements.csv")):
        return path
    return os.path.join(path, "run")


def table(name):
    """Every row of the CSV file NAME, as dicts of strings."""
    with open(name, newline="") as handle:
        return list(csv.DictReader(handle))


def read(path):
    """Every row of PATH, in file order."""
    rows = []
    for name in files(path):
        rows += table(name)
    return rows


def _run_file(path, name):
    run = run_directory(path)
    if run is None or not os.path.exists(os.path.join(run, name)):
        return None
    return os.path.join(run, name)


def rounds(path):
    """The rounds behind the rows of PATH (its run's rounds.csv), or [] without one."""
    name = _run_file(path, "rounds.csv")
    return table(name) if name else []


def probes(path):
    """The drift probe's readings behind the rows of PATH (its run's probes.csv), or []."""
    name = _run_file(path, "probes.csv")
    return table(name) if name else []


def manifest(path):
    """The manifest of the run behind PATH, as a dict, or None without one."""
    name = _run_file(path, "manifest.json")
    if not name:
        return None
    with open(name) as handle:
        return json.load(handle)


def measured(path):
    """The measured rows of PATH (status ok), by config_id."""
    return {row["config_id"]: row for row in read(path) if row["status"] == "ok"}


def time_ms(row):
    """The row's time in milliseconds (its median_ms)."""
    if row.get("status") != "ok" or not row.get("median_ms"):
        raise ValueError(f"{row.get('config_id')}: not measured ({row.get('status')}), it has no time")
    return float(row["median_ms"])
