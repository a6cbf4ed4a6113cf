"""Run every benchmark in this folder and print their tables: `python benchmarks/run.py`.

Each bench_*.py measures lg-testkit against a floor in the same run and prints markdown; the
README's Benchmarks section is this output.
"""

import subprocess
import sys
from pathlib import Path

failed = 0
for script in sorted(Path(__file__).parent.glob("bench_*.py")):
    print(f"# {script.name}\n", flush=True)
    failed += subprocess.call([sys.executable, str(script)]) != 0
    print(flush=True)
sys.exit(1 if failed else 0)
