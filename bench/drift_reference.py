#!/usr/bin/python3
"""Reference implementation of ctloop's drift check in pandas/scipy (what Evidently computes for n_ref > 1000:
normalised Wasserstein for numerical columns, Jensen-Shannon distance over per-value shares for categorical ones).
Usage: drift_reference.py reference.csv current.csv repeats  → prints JSON {load_s, seconds: [...], cpu_seconds: [...],
results}.
Loading the CSVs is timed separately and not counted in the test time."""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

ref_path, cur_path, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = time.perf_counter()
cats = {f"c{i}": "category" for i in range(4)}
ref = pd.read_csv(ref_path, dtype=cats)
cur = pd.read_csv(cur_path, dtype=cats)
load = time.perf_counter() - t0


def check():
    out = {}
    for col in ref.columns:
        r = ref[col].dropna()
        c = cur[col].dropna()
        if col.startswith("c"):
            keys = sorted(set(r.unique()) | set(c.unique()))
            rv = r.value_counts()
            cv = c.value_counts()
            p = np.array([rv.get(k, 0) for k in keys]) / len(r)
            q = np.array([cv.get(k, 0) for k in keys]) / len(c)
            out[col] = float(distance.jensenshannon(p, q))
        else:
            r = r[np.isfinite(r)]
            c = c[np.isfinite(c)]
            out[col] = float(stats.wasserstein_distance(r, c) / max(np.std(r), 0.001))
    return out


seconds = []
cpu_seconds = []
for _ in range(repeats):
    t = time.perf_counter()
    c = time.process_time()
    res = check()
    seconds.append(time.perf_counter() - t)
    cpu_seconds.append(time.process_time() - c)
print(json.dumps({"load_s": load, "seconds": seconds, "cpu_seconds": cpu_seconds, "results": res}))
