"""Baseline for the scale benchmark: the same CSV loaded with pandas + scipy the usual way.

read_csv (user, item, type, timestamp columns) -> type weights -> categorical codes ->
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
df = pd.read_csv(sys.argv[1], usecols=["userId", "itemId", "type", "timestamp"],
                 dtype={"userId": "category", "itemId": "category", "type": "category"})
weight = df["type"].map(WEIGHTS).astype(np.float32).to_numpy()
users = df["userId"].cat.codes.to_numpy()
items = df["itemId"].cat.codes.to_numpy()
matrix = sp.coo_matrix((weight, (users, items)),
                       shape=(len(df["userId"].cat.categories), len(df["itemId"].cat.categories))).tocsr()
matrix.sum_duplicates()
matrix.data[matrix.data <= 0] = 0
matrix.eliminate_zeros()
seconds = time.perf_counter() - start
print(json.dumps({"loadSeconds": seconds, "peakMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "pairs": int(matrix.nnz), "pandas": pd.__version__, "scipy": __import__("scipy").__version__}))
