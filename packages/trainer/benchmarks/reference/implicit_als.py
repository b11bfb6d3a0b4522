"""The reference side of the same-run comparison (benchmarks/reference/compare.ts): one process that
loads a ratings CSV the way implicit's users do (pandas read_csv -> scipy CSR float32) and fits
implicit's CPU conjugate-gradient ALS on it, with the settings of shared/REFERENCE.md's speed test
(64 factors, lambda 0.05, alpha 1, CG 3 steps).

    PYTHONPATH=~/.cache/edgerec/implicit-0.7.2 /usr/bin/python3 implicit_als.py RATINGS_CSV --threads 1 [--iterations 3]

Prints one JSON line: load seconds, median seconds per iteration, and resident memory from Linux's
/proc/self/status: the peak of the load phase (VmHWM, including Python and its modules), then the
peak counter is reset (/proc/self/clear_refs, 5) and the peak of the fit phase is read the same
way, with the resident memory when the fit started.
"""
import argparse
import json
import time

import numpy as np
import pandas as pd
import scipy
from scipy.sparse import csr_matrix
from threadpoolctl import threadpool_info

import implicit
from implicit.cpu.als import AlternatingLeastSquares


def status_mib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak():
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


parser = argparse.ArgumentParser()
parser.add_argument("ratings")
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--iterations", type=int, default=3)
parser.add_argument("--factors", type=int, default=64)
args = parser.parse_args()

modules_mib = status_mib("VmRSS")
start = time.perf_counter()
frame = pd.read_csv(args.ratings, dtype={"userId": "category", "itemId": "category", "value": np.float32})
users = frame["userId"].cat.codes.to_numpy()
items = frame["itemId"].cat.codes.to_numpy()
matrix = csr_matrix(
    (frame["value"].to_numpy(), (users, items)),
    shape=(len(frame["userId"].cat.categories), len(frame["itemId"].cat.categories)),
    dtype=np.float32,
)
del frame, users, items
load_seconds = time.perf_counter() - start
load_peak_mib = status_mib("VmHWM")

model = AlternatingLeastSquares(
    factors=args.factors,
    regularization=0.05,
    alpha=1.0,
    iterations=args.iterations,
    use_cg=True,
    calculate_training_loss=False,
    num_threads=args.threads,
    random_state=1,
)
model.cg_steps = 3  # an attribute in 0.7.2 (its default), not a constructor argument
times = []  # implicit's own per-iteration wall time (its callback's elapsed: both half-steps)
cpu_stamps = []


def on_iteration(_iteration, elapsed, _loss):
    times.append(elapsed)
    cpu_stamps.append(time.process_time())


reset_peak()
fit_start_mib = status_mib("VmRSS")
fit_cpu_start = time.process_time()
model.fit(matrix, show_progress=False, callback=on_iteration)
fit_peak_mib = status_mib("VmHWM")
cpu_times = [b - a for a, b in zip([fit_cpu_start] + cpu_stamps[:-1], cpu_stamps)]
blas = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} ({i.get('num_threads')} threads)"
        for i in threadpool_info() if i.get("user_api") == "blas"]
print(json.dumps({
    "library": f"implicit {implicit.__version__} (numpy {np.__version__}, scipy {scipy.__version__}, pandas {pd.__version__}; BLAS {', '.join(blas) or '?'})",
    "threads": args.threads,
    "pairs": int(matrix.nnz),
    "modulesMiB": modules_mib,
    "loadSeconds": load_seconds,
    "loadPeakMiB": load_peak_mib,
    "secondsPerIteration": sorted(times)[len(times) // 2],
    # CPU seconds of the whole process (every thread) per iteration: far less sensitive than wall
    # time to other processes on the machine.
    "cpuSecondsPerIteration": sorted(cpu_times)[len(cpu_times) // 2],
    "iterations": len(times),
    "fitStartMiB": fit_start_mib,
    "fitPeakMiB": fit_peak_mib,
    "peakMiB": max(load_peak_mib, fit_peak_mib),
}), flush=True)
