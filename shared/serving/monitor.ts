import { computeMetrics } from '../evaluation/metrics.js';
import type { Warehouse } from '../ports/warehouse.js';
import { SERVING_LABELS_TABLE } from './labels.js';
import { SERVING_LOG_TABLE } from './serving-log.js';

export interface LiveMetrics {
  version: string;
  /** UTC day of the predictions (YYYY-MM-DD), or "all" for the version overall. */
  day: string;
  predictions: number;
  labelled: number;
  positiveRate: number | null;
  auc: number | null;
  logLoss: number | null;
  meanPrediction: number | null;
}

/**
 * Live performance of a model from delayed labels: per version and UTC day of prediction, and per version overall,
 * AUC and log loss (shared/evaluation/metrics.ts, sklearn's definitions) over the labelled predictions, with the
 * prediction count and the labelled share. Days with predictions but no labels yet are listed with null metrics.
 */
export async function liveMetrics(w: Warehouse, model: string, opts: { since?: Date } = {}): Promise<LiveMetrics[]> {
  if (!(await w.getTable(SERVING_LOG_TABLE))) return [];
  const d = w.dialect;
  const hasLabels = (await w.getTable(SERVING_LABELS_TABLE)) !== null;
  const since = opts.since ? ` AND s.logged_at >= ${d.param('since')}` : '';
  const params = { model: { type: 'STRING' as const, value: model }, ...(opts.since ? { since: { type: 'TIMESTAMP' as const, value: opts.since } } : {}) };
  const rows = await w.query(
    `SELECT s.version AS version, ${d.epochSeconds('s.logged_at')} AS t, s.prediction AS prediction, ${hasLabels ? 'l.label' : 'CAST(NULL AS INT64)'} AS label
     FROM ${d.table(SERVING_LOG_TABLE)} AS s
     ${hasLabels ? `LEFT JOIN ${d.table(SERVING_LABELS_TABLE)} AS l ON l.request_id = s.request_id AND l.instance_index = s.instance_index` : ''}
     WHERE s.model = ${d.param('model')} AND s.prediction IS NOT NULL${since}`,
    { params },
  );
  const groups = new Map<string, { version: string; day: string; n: number; scores: number[]; labels: number[]; sum: number }>();
  const add = (version: string, day: string, p: number, label: number | null) => {
    const k = `${version}\u0000${day}`;
    let g = groups.get(k);
    if (!g) { g = { version, day, n: 0, scores: [], labels: [], sum: 0 }; groups.set(k, g); }
    g.n++;
    g.sum += p;
    if (label !== null) { g.scores.push(p); g.labels.push(label); }
  };
  for (const r of rows) {
    const version = String(r.version);
    const day = new Date(Number(r.t) * 1000).toISOString().slice(0, 10);
    const label = r.label === null || r.label === undefined ? null : Number(r.label);
    add(version, day, Number(r.prediction), label);
    add(version, 'all', Number(r.prediction), label);
  }
  return [...groups.values()]
    .sort((a, b) => (a.version === b.version ? (a.day === 'all' ? 1 : b.day === 'all' ? -1 : a.day.localeCompare(b.day)) : a.version.localeCompare(b.version, undefined, { numeric: true })))
    .map((g) => {
      const m = computeMetrics(g.labels, g.scores);
      const positives = g.labels.reduce((s, x) => s + x, 0);
      return {
        version: g.version, day: g.day, predictions: g.n, labelled: g.labels.length,
        positiveRate: g.labels.length ? positives / g.labels.length : null, auc: m.auc, logLoss: m.log_loss, meanPrediction: g.n ? g.sum / g.n : null,
      };
    });
}
