"""edgerec's Spark job: implicit-feedback ALS with Spark MLlib on the inputs edgerec-train wrote.

edgerec-train (``compute: { provider: 'spark', ... }``) writes, under one staging prefix:

* ``input/interactions/`` -- a directory of Parquet part files (``part-00000.parquet``, ...) of
  ``user: int, item: int, rating: float``: every weighted interaction r_ui (event weights, time
  decay and value transform already applied, the same values the local trainer uses), at most
  ``compute.partRows`` rows per part (default 1,000,000) so that edgerec-train stages them with
  bounded memory;
* ``input/train/`` -- the train part of the evaluation split, same layout (when evaluation is on);
* ``input/users.json``, ``input/items.json`` -- id maps (index = the int id used here).

This job trains ``pyspark.ml.recommendation.ALS`` with ``implicitPrefs=True`` (Hu, Koren & Volinsky
2008: preference p_ui = 1 if r_ui > 0, confidence c_ui = 1 + alpha * r_ui, the same as the local
trainer) on each table and saves each model with ``ALSModel.save``:

* ``<output>/all`` from ``input/interactions/`` (the exported model),
* ``<output>/evaluate`` from ``input/train/`` (evaluated and gated by edgerec-train).

``spark.read.parquet`` reads a directory (every part file in it) as one table, so ``--interactions``
and ``--train`` name directories; a single ``.parquet`` file is read the same way.

Each save holds ``metadata/`` (JSON with ``rank``) and ``userFactors/`` / ``itemFactors/``
Parquet with ``id: int, features: array<float>``, which edgerec-train reads back.

Note: Spark scales ``regParam`` by the number of ratings of each user/item (ALS-WR), while the
local trainer uses a plain lambda; the same number therefore regularizes more on Spark.

No Spark runs on edgerec's CI: this file is only syntax-checked there (python3 -m py_compile), and
its ``parse_args`` is run with the arguments the trainer passes (pyspark is imported in ``main``).
"""

import argparse
import sys


def parse_args(argv):
    parser = argparse.ArgumentParser(description="edgerec implicit ALS on Spark MLlib")
    parser.add_argument("--interactions", required=True, help="URI of the interactions directory (Parquet part files)")
    parser.add_argument("--train", help="URI of the evaluation split's train directory")
    parser.add_argument("--output", required=True, help="URI prefix for the ALSModel saves")
    parser.add_argument("--rank", type=int, required=True, help="factors (k)")
    parser.add_argument("--reg-param", type=float, required=True, help="regularization (lambda)")
    parser.add_argument("--alpha", type=float, required=True, help="confidence scale (alpha)")
    parser.add_argument("--max-iter", type=int, required=True, help="ALS sweeps")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--checkpoint-dir", help="checkpoint directory (long runs)")
    return parser.parse_args(argv)


def train(spark, uri, output, args):
    from pyspark.ml.recommendation import ALS

    ratings = spark.read.parquet(uri).select("user", "item", "rating")
    als = ALS(
        rank=args.rank,
        maxIter=args.max_iter,
        regParam=args.reg_param,
        alpha=args.alpha,
        implicitPrefs=True,
        nonnegative=False,
        seed=args.seed,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        coldStartStrategy="drop",
    )
    model = als.fit(ratings)
    model.write().overwrite().save(output)
    print("edgerec: saved rank-%d ALS model of %s to %s" % (args.rank, uri, output))


def main(argv):
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("edgerec-als").getOrCreate()
    if args.checkpoint_dir:
        spark.sparkContext.setCheckpointDir(args.checkpoint_dir)
    output = args.output.rstrip("/")
    try:
        if args.train:
            train(spark, args.train, output + "/evaluate", args)
        train(spark, args.interactions, output + "/all", args)
    finally:
        spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
