"""The exported register (issue #13) on a large database: time and peak memory of one Excel
export of every case with every column, as the Log page makes it (the use case's batches,
ui/register_export.py's write-only workbook).

    KESU_DATA_DIR=/tmp/bench DATABASE_URL=sqlite:////tmp/bench/kesu.db \\
        python manage.py synth --cases 20000
    KESU_DATA_DIR=/tmp/bench DATABASE_URL=sqlite:////tmp/bench/kesu.db python bench/export.py

Prints the rows, seconds, the file's size and the process's resident memory before and at its
peak (ru_maxrss: the whole process, Python and the libraries included)."""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="qa", help="who exports (the register they may see)")
    parser.add_argument("--csv", action="store_true", help="the CSV instead of the Excel file")
    args = parser.parse_args()

    from adapters.translations import compile_catalogs
    from adapters.wiring import build_app
    from core import usecases as uc
    from core.model import RegisterFilter
    from core.rules import register_columns as rc
    from ui import register_export

    compile_catalogs()
    app = build_app()
    user = uc.accounts.active_user(app, args.user)
    if user is None:
        sys.exit(f"no user {args.user!r}")
    fields = uc.custom_fields.field_definitions(app)
    columns = list(rc.KEYS) + [rc.custom_key(f.id or 0) for f in fields]
    tz = ZoneInfo(uc.context.settings(app).timezone)
    before = _rss_mb()
    start = time.perf_counter()
    export = uc.search.register_export(app, user, RegisterFilter())
    data = (register_export.write_csv(export, columns, fields, tz) if args.csv else
            register_export.write_xlsx(export, columns, fields, tz, "bench"))
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{export.total} rows × {len(columns)} columns: {took:.1f} s, "
          f"{len(data) / 1e6:.1f} MB file; RSS {before:.0f} MB before, {peak:.0f} MB peak")


if __name__ == "__main__":
    main()
