"""shared/REFERENCE.md's protocol run on the reference library itself (`implicit`, built by build-implicit.sh).

    PYTHONPATH=~/.cache/edgerec/implicit-0.7.2 /usr/bin/python3 quality_implicit.py RATINGS_CSV [--seeds 5]

Indexes = rank of the raw id; split temporal_last20 (per user, sorted by (timestamp, item index),
the last floor(n/5) to test); c = alpha * value (rating, or 1 for binary); 64 factors, lambda 0.05,
15 iterations, CG 3 steps, 1 thread; K = 10. precision, map, ndcg and auc come from implicit's own
`ranking_metrics_at_k` (train items excluded); recall = mean_u hits / |T_u| from the same top 10.
Prints one JSON line per (confidence, alpha, model) with the first seed's metrics and ndcg's mean
and sd over the seeds, so the table in REFERENCE.md can be checked row by row.
"""
import argparse
import json
import statistics

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

import implicit
from implicit.cpu.als import AlternatingLeastSquares
from implicit.evaluation import ranking_metrics_at_k

K = 10

parser = argparse.ArgumentParser()
parser.add_argument("ratings")
parser.add_argument("--seeds", type=int, default=5)
args = parser.parse_args()

frame = pd.read_csv(args.ratings)
_, user = np.unique(frame["userId"].to_numpy(), return_inverse=True)
_, item = np.unique(frame["movieId"].to_numpy(), return_inverse=True)
rating = frame["rating"].to_numpy(dtype=np.float32)
timestamp = frame["timestamp"].to_numpy()
n_users, n_items = int(user.max()) + 1, int(item.max()) + 1

# temporal_last20: sort by (user, timestamp, item); the last floor(n_u / 5) of each user go to test.
order = np.lexsort((item, timestamp, user))
user_s, item_s, rating_s = user[order], item[order], rating[order]
counts = np.bincount(user_s, minlength=n_users)
starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
position = np.arange(len(user_s)) - starts[user_s]
is_test = position >= counts[user_s] - counts[user_s] // 5


def matrix(mask, values):
    return csr_matrix((values[mask], (user_s[mask], item_s[mask])), shape=(n_users, n_items), dtype=np.float32)


test = matrix(is_test, np.ones_like(rating_s))
test_sets = [set(test.indices[test.indptr[u] : test.indptr[u + 1]]) for u in range(n_users)]
users_with_test = np.array([u for u in range(n_users) if test_sets[u]])


def quantize(x):
    """int8 per row as REFERENCE.md: s = max|x| / 127, q = round half away from zero, clipped; returns s * q."""
    s = np.abs(x).max(axis=1, keepdims=True) / 127
    s[s == 0] = 1
    q = np.clip(np.sign(x / s) * np.floor(np.abs(x / s) + 0.5), -127, 127)
    return (s * q).astype(np.float32)


def metrics(model, train):
    m = ranking_metrics_at_k(model, train, test, K=K, show_progress=False, num_threads=1)
    ids, _ = model.recommend(users_with_test, train[users_with_test], N=K, filter_already_liked_items=True)
    recall = np.mean([len(test_sets[u] & set(row)) / len(test_sets[u]) for u, row in zip(users_with_test, ids)])
    return {k: float(m[k]) for k in ("precision", "map", "ndcg", "auc")} | {"recall": float(recall)}


for confidence, alpha in (("rating", 1.0), ("rating", 40.0), ("binary", 1.0), ("binary", 40.0)):
    train = matrix(~is_test, rating_s if confidence == "rating" else np.ones_like(rating_s))
    rows = {"ALS float32": [], "ALS int8": []}
    for seed in range(args.seeds):
        model = AlternatingLeastSquares(
            factors=64,
            regularization=0.05,
            alpha=alpha,
            iterations=15,
            use_cg=True,
            calculate_training_loss=False,
            num_threads=1,
            random_state=seed,
        )
        model.cg_steps = 3  # an attribute in 0.7.2 (its default), not a constructor argument
        model.fit(train, show_progress=False)
        rows["ALS float32"].append(metrics(model, train))
        model.user_factors, model.item_factors = quantize(model.user_factors), quantize(model.item_factors)
        rows["ALS int8"].append(metrics(model, train))
    for name, runs in rows.items():
        ndcgs = [r["ndcg"] for r in runs]
        print(
            json.dumps(
                {
                    "implicit": implicit.__version__,
                    "confidence": confidence,
                    "alpha": alpha,
                    "model": name,
                    "seed0": {k: round(v, 4) for k, v in runs[0].items()},
                    "ndcgMean": round(statistics.mean(ndcgs), 4),
                    "ndcgSd": round(statistics.stdev(ndcgs), 4) if len(ndcgs) > 1 else 0.0,
                    "seeds": len(runs),
                }
            ),
            flush=True,
        )
