import { HISTORY_TABLE } from '../drift/history.js';
import type { Baseline } from '../drift/baselines.js';
import type { EvaluationReport } from '../evaluation/evaluate.js';
import type { FeatureView } from '../features/definitions.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Row, Warehouse } from '../ports/warehouse.js';

/** Read-only queries behind `ctloop why`, `ctloop status` and the report. None creates a table: no table, no rows. */

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export interface DriftFeaturePoint {
  reportId: string;
  view: string;
  model: string | null;
  createdAt: string;
  windowStart: string;
  windowEnd: string;
  baselineId: string;
  feature: string;
  method: string;
  statistic: number | null;
  pValue: number | null;
  threshold: number | null;
  drifted: boolean;
  datasetDrift: boolean;
}

/** Every feature row of the drift history (oldest window first), for plots of drift per feature over time. */
export async function driftSeries(w: Warehouse, opts: { view?: string; limit?: number } = {}): Promise<DriftFeaturePoint[]> {
  if (!(await w.getTable(HISTORY_TABLE))) return [];
  const d = w.dialect;
  const where = [`feature IS NOT NULL`, ...(opts.view ? [`${d.ident('view')} = ${d.param('view')}`] : [])];
  const rows = await w.query(
    `SELECT report_id, ${d.ident('view')} AS view_name, model, created_at, window_start, window_end, baseline_id, feature, method, statistic, p_value, threshold, drifted, dataset_drift
     FROM ${d.table(HISTORY_TABLE)} WHERE ${where.join(' AND ')} ORDER BY window_start, created_at, feature LIMIT ${Math.max(1, Math.floor(opts.limit ?? 20_000))}`,
    { params: opts.view ? { view: { type: 'STRING', value: opts.view } } : {} },
  );
  return rows.map((r) => ({
    reportId: String(r.report_id), view: String(r.view_name), model: r.model === null ? null : String(r.model), createdAt: iso(r.created_at),
    windowStart: iso(r.window_start), windowEnd: iso(r.window_end), baselineId: String(r.baseline_id), feature: String(r.feature), method: String(r.method),
    statistic: numOrNull(r.statistic), pValue: numOrNull(r.p_value), threshold: numOrNull(r.threshold), drifted: Boolean(r.drifted), datasetDrift: Boolean(r.dataset_drift),
  }));
}

export interface DriftReportSummary {
  reportId: string;
  view: string;
  model: string | null;
  createdAt: string;
  window: { start: string; end: string };
  baselineId: string;
  baselineUri: string;
  datasetDrift: boolean;
  shareDrifted: number;
  anomalies: number;
  reportUri: string;
  drifted: string[];
  features: number;
}

function summaries(rows: Row[]): DriftReportSummary[] {
  const by = new Map<string, DriftReportSummary>();
  for (const r of rows) {
    const id = String(r.report_id);
    let s = by.get(id);
    if (!s) {
      s = {
        reportId: id, view: String(r.view_name), model: r.model === null ? null : String(r.model), createdAt: iso(r.created_at),
        window: { start: iso(r.window_start), end: iso(r.window_end) }, baselineId: String(r.baseline_id), baselineUri: String(r.baseline_uri),
        datasetDrift: Boolean(r.dataset_drift), shareDrifted: Number(r.share_drifted), anomalies: Number(r.anomalies), reportUri: String(r.report_uri), drifted: [], features: 0,
      };
      by.set(id, s);
    }
    if (r.feature !== null) {
      s.features++;
      if (r.drifted) s.drifted.push(String(r.feature));
    }
  }
  return [...by.values()];
}

const summaryColumns = (w: Warehouse) => `report_id, ${w.dialect.ident('view')} AS view_name, model, created_at, window_start, window_end, baseline_id, baseline_uri, feature, drifted, dataset_drift, share_drifted, anomalies, report_uri`;

/** One report of the history by id, or null. */
export async function driftReport(w: Warehouse, reportId: string): Promise<DriftReportSummary | null> {
  if (!(await w.getTable(HISTORY_TABLE))) return null;
  const d = w.dialect;
  const rows = await w.query(`SELECT ${summaryColumns(w)} FROM ${d.table(HISTORY_TABLE)} WHERE report_id = ${d.param('id')}`, { params: { id: { type: 'STRING', value: reportId } } });
  return summaries(rows)[0] ?? null;
}

/** The latest report of each view (newest first). */
export async function latestDriftReports(w: Warehouse, perView = 1): Promise<DriftReportSummary[]> {
  if (!(await w.getTable(HISTORY_TABLE))) return [];
  const d = w.dialect;
  const rows = await w.query(
    `SELECT ${summaryColumns(w)} FROM ${d.table(HISTORY_TABLE)} WHERE report_id IN (
       SELECT report_id FROM (SELECT report_id, ROW_NUMBER() OVER (PARTITION BY ${d.ident('view')} ORDER BY MAX(created_at) DESC) AS n FROM ${d.table(HISTORY_TABLE)} GROUP BY report_id, ${d.ident('view')}) AS x
       WHERE n <= ${Math.max(1, Math.floor(perView))})`,
  );
  return summaries(rows).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** What a view holds in a window: rows and when they were ingested. */
export async function viewWindowData(w: Warehouse, view: FeatureView, window: { start: string; end: string }): Promise<{ rows: number; firstIngestedAt: string | null; lastIngestedAt: string | null; ingestIds: number }> {
  if (!(await w.getTable(view.table))) return { rows: 0, firstIngestedAt: null, lastIngestedAt: null, ingestIds: 0 };
  const d = w.dialect;
  const ts = d.ident(view.timestampField);
  const [r] = await w.query(
    `SELECT COUNT(*) AS n, MIN(_ingested_at) AS first_at, MAX(_ingested_at) AS last_at, COUNT(DISTINCT _ingested_at) AS batches FROM ${d.table(view.table)}
     WHERE ${ts} >= ${d.param('s')} AND ${ts} < ${d.param('e')}`,
    { params: { s: { type: 'TIMESTAMP', value: new Date(window.start) }, e: { type: 'TIMESTAMP', value: new Date(window.end) } } },
  );
  return {
    rows: Number(r?.n ?? 0), firstIngestedAt: r?.first_at ? iso(r.first_at) : null, lastIngestedAt: r?.last_at ? iso(r.last_at) : null, ingestIds: Number(r?.batches ?? 0),
  };
}

/** A JSON artifact (baseline, evaluation report), or null when it is not there. */
export async function readJson<T>(store: ObjectStore, uri: string | null): Promise<T | null> {
  if (!uri || !(await store.exists(uri))) return null;
  return JSON.parse((await store.get(uri)).toString('utf8')) as T;
}

export const readBaseline = (store: ObjectStore, uri: string | null) => readJson<Baseline>(store, uri);
export const readEvaluation = (store: ObjectStore, uri: string | null) => readJson<EvaluationReport>(store, uri);
