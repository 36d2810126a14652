#!/usr/bin/env python3
"""Reference trainer of the flight_delay model: the Vertex AI custom-training contract, run the same way locally.

Inputs (environment, set by ctloop in the job's container env and by the local runner alike):
  AIP_TRAINING_DATA_URI, AIP_VALIDATION_DATA_URI, AIP_TEST_DATA_URI  CSV files with a header (AIP_DATA_FORMAT=csv)
  AIP_MODEL_DIR               where to write model.bst, features.json, metrics.json, predictions.csv
  CTLOOP_LABEL                label column (0/1)
  CTLOOP_ROW_ID               row id column (copied to predictions.csv)
  CTLOOP_SLICES               comma-separated columns copied to predictions.csv (slice evaluation)
  CTLOOP_BASELINE_MODEL_DIR   optional: the champion's model dir; its scores on the same test rows → baseline_score
gs:// URIs are read and written through Vertex AI's Cloud Storage FUSE mount (/gcs/<bucket>/<path>).
Arguments: --num-boost-round N --max-depth D --eta E --seed S (defaults below).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

# Columns that are never model inputs: identifiers and times.
NON_FEATURES = {"event_timestamp"}
CATEGORICAL = ("origin", "destination")


def local_path(uri):
    """gs://bucket/path → /gcs/bucket/path (Vertex AI's Cloud Storage FUSE mount); local paths unchanged."""
    return "/gcs/" + uri[len("gs://"):] if uri.startswith("gs://") else uri


def env(name, default=None):
    v = os.environ.get(name, default)
    if v is None or v == "":
        sys.exit(f"error: {name} is not set (the trainer contract: see trainers/flight-delay/train.py)")
    return v


def read_split(name):
    uri = env(name)
    fmt = os.environ.get("AIP_DATA_FORMAT", "csv")
    if fmt != "csv":
        sys.exit(f"error: AIP_DATA_FORMAT={fmt} is not supported: this trainer reads csv (Debian ships no pyarrow)")
    return pd.read_csv(local_path(uri), low_memory=False)


def feature_spec(train, label, row_id):
    skip = NON_FEATURES | {label, row_id, "airport"}  # airport = origin (the airport view's join key)
    cats = [c for c in CATEGORICAL if c in train.columns]
    nums = [c for c in train.columns if c not in skip and c not in cats and pd.api.types.is_numeric_dtype(train[c])]
    return {"numeric": nums, "categorical": {c: sorted(train[c].dropna().astype(str).unique().tolist()) for c in cats}}


def matrix(df, spec):
    x = pd.DataFrame(index=df.index)
    for c in spec["numeric"]:
        x[c] = pd.to_numeric(df[c], errors="coerce").astype("float64") if c in df.columns else np.nan
    for c, cats in spec["categorical"].items():
        vals = df[c].astype(str) if c in df.columns else pd.Series([None] * len(df), index=df.index)
        # Ordinal codes (unseen values → missing): model.bst is xgboost's binary format, which cannot hold
        # categorical splits, and Vertex AI's model contract names that file.
        x[c] = pd.Categorical(vals, categories=cats).codes.astype("float64")
        x.loc[x[c] < 0, c] = np.nan
    return xgb.DMatrix(x)


def metrics(y, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return {
        "auc": float(roc_auc_score(y, p)) if len(set(y)) > 1 else float("nan"),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "accuracy": float(accuracy_score(y, (p >= 0.5).astype(int))),
        "positive_rate": float(np.mean(y)),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--num-boost-round", type=int, default=200)
    ap.add_argument("--max-depth", type=int, default=6)
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    label = env("CTLOOP_LABEL")
    row_id = env("CTLOOP_ROW_ID")
    slices = [s for s in os.environ.get("CTLOOP_SLICES", "").split(",") if s]
    out = local_path(env("AIP_MODEL_DIR"))
    os.makedirs(out, exist_ok=True)

    t0 = time.time()
    train, valid, test = (read_split(n) for n in ("AIP_TRAINING_DATA_URI", "AIP_VALIDATION_DATA_URI", "AIP_TEST_DATA_URI"))
    for name, df in (("training", train), ("validation", valid), ("test", test)):
        if len(df) == 0:
            sys.exit(f"error: the {name} split is empty: widen the model's split windows or load more labelled rows")
        for col in (label, row_id):
            if col not in df.columns:
                sys.exit(f"error: the {name} split has no column {col!r} (columns: {', '.join(df.columns)})")
    print(f"read {len(train)} training, {len(valid)} validation, {len(test)} test rows in {time.time() - t0:.1f} s", flush=True)

    spec = feature_spec(train, label, row_id)
    params = {"objective": "binary:logistic", "eval_metric": ["logloss", "auc"], "tree_method": "hist",
              "max_depth": args.max_depth, "eta": args.eta, "seed": args.seed, "nthread": 2}
    dtrain, dvalid = matrix(train, spec), matrix(valid, spec)
    dtrain.set_label(train[label].astype(int).to_numpy())
    dvalid.set_label(valid[label].astype(int).to_numpy())
    t1 = time.time()
    booster = xgb.train(params, dtrain, num_boost_round=args.num_boost_round, evals=[(dvalid, "validation")],
                        early_stopping_rounds=20, verbose_eval=50)
    train_seconds = time.time() - t1
    trees = booster.best_iteration + 1
    # Keep only the trees up to the best validation round: the saved model is exactly the one evaluated here, so
    # whoever loads model.bst later (champion scoring, serving) gets the same scores.
    booster = booster[:trees]
    print(f"trained {trees} trees in {train_seconds:.2f} s", flush=True)

    y = test[label].astype(int).to_numpy()
    score = booster.predict(matrix(test, spec))
    m = metrics(y, score)
    yv = valid[label].astype(int).to_numpy()
    mv = metrics(yv, booster.predict(dvalid))

    pred = pd.DataFrame({"row_id": test[row_id].to_numpy(), "label": y, "score": score})
    baseline_dir = os.environ.get("CTLOOP_BASELINE_MODEL_DIR")
    if baseline_dir:
        bdir = local_path(baseline_dir)
        with open(os.path.join(bdir, "features.json")) as f:
            bspec = json.load(f)
        champion = xgb.Booster(model_file=os.path.join(bdir, "model.bst"))
        pred["baseline_score"] = champion.predict(matrix(test, bspec))
    for s in slices:
        pred[s] = test[s].to_numpy() if s in test.columns else None

    booster.save_model(os.path.join(out, "model.bst"))
    with open(os.path.join(out, "features.json"), "w") as f:
        json.dump(spec, f)
    pred.to_csv(os.path.join(out, "predictions.csv"), index=False)
    result = {**m, "validation": mv, "rows": {"train": len(train), "validation": len(valid), "test": len(test)},
              "train_seconds": train_seconds, "trees": trees, "xgboost": xgb.__version__,
              "params": {k: v for k, v in params.items() if k != "eval_metric"}}
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(f"test: auc {m['auc']:.4f}, log loss {m['log_loss']:.4f}, accuracy {m['accuracy']:.4f} "
          f"({len(test)} rows, {m['positive_rate']:.3f} delayed)", flush=True)


if __name__ == "__main__":
    main()
