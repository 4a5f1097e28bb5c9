"""Run every benchmark in bench/ (``make bench``); each prints its own ``target`` lines.

Every script with an entry point runs, in name order: incremental.py, ingest.py, memory.py,
models.py, postgres_load.py, quality.py. postgres_load.py needs a PostgreSQL server it may
create and drop a database on (a superuser; ``postgresql://postgres@127.0.0.1:5432`` unless
``BENCH_POSTGRES_URL`` says otherwise); without one it prints its targets as missed and fails.
models.py uses the same server for its PostgreSQL contenders; without one it skips them, saying
so, and prints their target as missed (``--require-postgres`` makes that a failure).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for script in sorted(HERE.glob("*.py")):
        # Helpers (data generators, peer implementations) have no entry point of their own.
        if script.name == "run_all.py" or "__main__" not in script.read_text(encoding="utf-8"):
            continue
        print(f"== {script.name}", flush=True)
        failures += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
