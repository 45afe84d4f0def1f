"""Reading convsweep's rows from Python: the one reader the repository's scripts share.

    import sys; sys.path.insert(0, "python")   # from the repository root
    import convsweep_rows

    rows = convsweep_rows.read(PATH)            # every row, as dicts of strings
    ok = convsweep_rows.measured(PATH)          # {config_id: row} of the rows with status ok
    convsweep_rows.time_ms(row)                 # the row's time (median_ms), a float

PATH is a run directory (its measurements.csv), a package (every data/*.csv, in name order) or a
CSV file with the columns of measurements.csv (docs/run-directory.md). A row that is not measured
(status other than ok: dropped, impossible, out of memory, failed verification) has no time:
`measured` leaves it out, and `time_ms` raises ValueError naming it.
"""
import csv
import glob
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


def read(path):
    """Every row of PATH, in file order."""
    rows = []
    for name in files(path):
        with open(name, newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def measured(path):
    """The measured rows of PATH (status ok), by config_id."""
    return {row["config_id"]: row for row in read(path) if row["status"] == "ok"}


def time_ms(row):
    """The row's time in milliseconds (its median_ms)."""
    if row.get("status") != "ok" or not row.get("median_ms"):
        raise ValueError(f"{row.get('config_id')}: not measured ({row.get('status')}), it has no time")
    return float(row["median_ms"])
