"""Baseline for the scale benchmark: the same CSV loaded with pandas + scipy the usual way.

read_csv (user, item, and the value, type and timestamp columns when present) -> type weights
times values -> categorical codes ->
scipy COO -> CSR with duplicates summed. Prints one JSON line: seconds and peak RSS (MiB).
Usage: python3 pandas_load.py events.csv
"""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

WEIGHTS = {"view": 1, "click": 2, "add_to_cart": 4, "remove_from_cart": -2,
           "purchase": 8, "rating": 1, "like": 4, "dislike": -4}

start = time.perf_counter()
cpu_start = time.process_time()
header = open(sys.argv[1]).readline().strip().split(",")
user = next(c for c in header if c.lower() in ("userid", "user_id", "user"))
item = next(c for c in header if c.lower() in ("itemid", "item_id", "item", "movieid"))
value = next((c for c in header if c.lower() in ("value", "rating")), None)
kind = "type" if "type" in header else None
columns = [c for c in (user, item, value, kind, "timestamp") if c is not None and c in header]
dtypes = {user: "category", item: "category"}
if kind:
    dtypes[kind] = "category"
df = pd.read_csv(sys.argv[1], usecols=columns, dtype=dtypes)
weight = np.ones(len(df), dtype=np.float32)
if kind:
    weight *= df[kind].map(WEIGHTS).astype(np.float32).to_numpy()
if value:
    weight *= df[value].to_numpy(dtype=np.float32)
users = df[user].cat.codes.to_numpy()
items = df[item].cat.codes.to_numpy()
matrix = sp.coo_matrix((weight, (users, items)),
                       shape=(len(df[user].cat.categories), len(df[item].cat.categories))).tocsr()
matrix.sum_duplicates()
matrix.data[matrix.data <= 0] = 0
matrix.eliminate_zeros()
seconds = time.perf_counter() - start
cpu_seconds = time.process_time() - cpu_start
print(json.dumps({"loadSeconds": seconds, "cpuSeconds": cpu_seconds, "peakMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "pairs": int(matrix.nnz), "pandas": pd.__version__, "scipy": __import__("scipy").__version__}))
