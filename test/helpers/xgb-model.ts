import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';

/** Why the model-server tests cannot run here (null when /usr/bin/python3 has xgboost 1.7.4). */
export function xgboostSkipReason(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import xgboost, numpy, pandas; print(xgboost.__version__)'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} is not runnable (${r.error.message}): install Debian python3-xgboost python3-pandas`;
  if (r.status !== 0) return `${PYTHON} has no xgboost (${r.stderr.trim().split('\n').at(-1)}): install Debian python3-xgboost python3-pandas`;
  return null;
}

/**
 * Train a small binary:logistic model the way trainers/flight-delay/train.py does (numeric columns, then origin and
 * destination as ordinal codes of their sorted categories, features.json) on synthetic flights whose delay depends on
 * the route features `route_avg_delay`, `airport_delayed_share` and the hour. Writes model.bst, features.json and
 * test.json: test instances (named features) with the trainer's own predictions.
 */
const SCRIPT = String.raw`
import json, os, sys
import numpy as np, pandas as pd, xgboost as xgb
out = sys.argv[1]
rng = np.random.default_rng(int(sys.argv[2]))
n = 3000
airports = ["ORD", "SFO", "LAX", "JFK", "ATL"]
df = pd.DataFrame({
  "route_avg_delay": rng.normal(10, 8, n).round(3),
  "airport_delayed_share": rng.uniform(0, 0.5, n).round(4),
  "hour": rng.integers(0, 24, n).astype(float),
  "origin": rng.choice(airports, n),
  "destination": rng.choice(airports, n),
})
df.loc[rng.random(n) < 0.05, "route_avg_delay"] = np.nan
z = 0.08 * df.route_avg_delay.fillna(10) + 4 * df.airport_delayed_share + 0.05 * df.hour + (df.origin == "ORD") * 0.7 - 3
y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
spec = {"numeric": ["route_avg_delay", "airport_delayed_share", "hour"], "categorical": {c: sorted(df[c].unique().tolist()) for c in ("origin", "destination")}}
def matrix(d):
  x = pd.DataFrame(index=d.index)
  for c in spec["numeric"]:
    x[c] = pd.to_numeric(d[c], errors="coerce").astype("float64")
  for c, cats in spec["categorical"].items():
    x[c] = pd.Categorical(d[c].astype(str), categories=cats).codes.astype("float64")
    x.loc[x[c] < 0, c] = np.nan
  return xgb.DMatrix(x)
train, test = df.iloc[:2500], df.iloc[2500:].copy()
dtrain = matrix(train); dtrain.set_label(y[:2500])
b = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 4, "eta": 0.3, "seed": 1}, dtrain, num_boost_round=30)
os.makedirs(out, exist_ok=True)
b.save_model(os.path.join(out, "model.bst"))
json.dump(spec, open(os.path.join(out, "features.json"), "w"))
test.loc[test.index[:5], "destination"] = "XXX"  # unseen category: missing
p = b.predict(matrix(test))
inst = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()} for r in test.to_dict("records")]
json.dump({"instances": inst, "predictions": [float(v) for v in p], "labels": [int(v) for v in y[2500:]]}, open(os.path.join(out, "test.json"), "w"))
`;

export interface TrainedModel {
  dir: string;
  instances: Record<string, string | number | null>[];
  predictions: number[];
  labels: number[];
}

export function trainSmallModel(seed = 7, dir = mkdtempSync(join(tmpdir(), 'ctloop-xgb-'))): TrainedModel {
  const r = spawnSync(PYTHON, ['-c', SCRIPT, dir, String(seed)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`training the test model failed: ${r.stderr || r.error?.message}`);
  const t = JSON.parse(readFileSync(join(dir, 'test.json'), 'utf8')) as Omit<TrainedModel, 'dir'>;
  return { dir, ...t };
}
