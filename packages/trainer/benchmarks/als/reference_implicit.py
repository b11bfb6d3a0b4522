"""Reference for `npm run bench -w @edgerec/trainer -- --reference-cmd 'python3 benchmarks/als/reference_implicit.py'`.

Reads the benchmark's data from EDGEREC_BENCH_DIR (users.i32, items.i32, values.f32: one entry per
stored pair), trains the `implicit` library's CPU conjugate-gradient ALS with the same settings
(64 factors, lambda 0.05, alpha 1, CG 3 steps) at each thread count of EDGEREC_BENCH_THREADS and
prints one JSON line per thread count: {"threads": n, "secondsPerIteration": median}.
Needs implicit 0.7.x with numpy and scipy: `pip install implicit`, or built from source without PyPI
(benchmarks/reference/build-implicit.sh, then PYTHONPATH=~/.cache/edgerec/implicit-0.7.2 /usr/bin/python3 ...).
"""
import json
import os
import time

import numpy as np
from scipy.sparse import csr_matrix
from implicit.cpu.als import AlternatingLeastSquares

d = os.environ["EDGEREC_BENCH_DIR"]
users = np.fromfile(os.path.join(d, "users.i32"), dtype="<i4")
items = np.fromfile(os.path.join(d, "items.i32"), dtype="<i4")
values = np.fromfile(os.path.join(d, "values.f32"), dtype="<f4")
shape = (int(os.environ["EDGEREC_BENCH_USERS"]), int(os.environ["EDGEREC_BENCH_ITEMS"]))
matrix = csr_matrix((values, (users, items)), shape=shape)
iterations = int(os.environ.get("EDGEREC_BENCH_ITERATIONS", "3"))
factors = int(os.environ.get("EDGEREC_BENCH_FACTORS", "64"))

for threads in [int(t) for t in os.environ.get("EDGEREC_BENCH_THREADS", "1").split(",")]:
    stamps = []
    model = AlternatingLeastSquares(
        factors=factors,
        regularization=0.05,
        alpha=1.0,
        iterations=iterations,
        use_cg=True,
        calculate_training_loss=False,
        num_threads=threads,
        random_state=1,
    )
    model.cg_steps = 3  # an attribute in 0.7.2 (its default), not a constructor argument
    start = time.perf_counter()
    model.fit(matrix, show_progress=False, callback=lambda *_: stamps.append(time.perf_counter()))
    times = [b - a for a, b in zip([start] + stamps[:-1], stamps)]
    print(json.dumps({"threads": threads, "secondsPerIteration": sorted(times)[len(times) // 2]}), flush=True)
