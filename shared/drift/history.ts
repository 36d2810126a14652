import type { ColumnSchema, Row, Warehouse, TableSpec } from '../ports/warehouse.js';
import type { Baseline } from './baselines.js';
import type { DriftReport } from './report.js';
import type { TimeWindow } from './profile.js';

/** The warehouse history of drift reports: one row per feature and report (a summary row when none compared). */
export const HISTORY_TABLE = '_drift_history';

export const historyColumns: ColumnSchema[] = [
  { name: 'report_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'created_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'view', type: 'STRING', mode: 'REQUIRED' },
  { name: 'model', type: 'STRING' },
  { name: 'baseline_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'baseline_uri', type: 'STRING', mode: 'REQUIRED' },
  { name: 'window_start', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'window_end', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'feature', type: 'STRING' },
  { name: 'kind', type: 'STRING' },
  { name: 'method', type: 'STRING' },
  { name: 'statistic', type: 'FLOAT64' },
  { name: 'p_value', type: 'FLOAT64' },
  { name: 'threshold', type: 'FLOAT64' },
  { name: 'drifted', type: 'BOOL' },
  { name: 'dataset_drift', type: 'BOOL', mode: 'REQUIRED' },
  { name: 'share_drifted', type: 'FLOAT64', mode: 'REQUIRED' },
  { name: 'anomalies', type: 'INT64', mode: 'REQUIRED' },
  { name: 'report_uri', type: 'STRING', mode: 'REQUIRED' },
];

/** The drift history table (also created by Terraform: shared/topology/tables.ts). */
export const historyTable: TableSpec = {
  name: HISTORY_TABLE, columns: historyColumns, partitionBy: 'created_at', clusterBy: ['view', 'feature'],
  description: 'ctloop drift reports, one row per feature', labels: { ctloop_kind: 'drift_history' },
};

export async function ensureHistoryTable(w: Warehouse): Promise<void> {
  if (!(await w.getTable(HISTORY_TABLE))) await w.createTable(historyTable);
}

export interface HistoryEntry {
  reportId: string;
  view: string;
  model: string | null;
  baseline: Pick<Baseline, 'id' | 'uri'>;
  window: TimeWindow;
  report: DriftReport;
  reportUri: string;
  createdAt: Date;
}

const finite = (x: number | null) => (x === null || Number.isNaN(x) ? null : Number.isFinite(x) ? x : x > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE);

/** Append a report's rows once (a retried write with the same report id adds nothing). */
export async function writeHistory(w: Warehouse, e: HistoryEntry): Promise<void> {
  await ensureHistoryTable(w);
  const base: Row = {
    report_id: e.reportId, created_at: e.createdAt, view: e.view, model: e.model, baseline_id: e.baseline.id, baseline_uri: e.baseline.uri,
    window_start: new Date(e.window.start), window_end: new Date(e.window.end), dataset_drift: e.report.dataset_drift,
    share_drifted: e.report.share_drifted, anomalies: e.report.anomalies.length, report_uri: e.reportUri,
    feature: null, kind: null, method: null, statistic: null, p_value: null, threshold: null, drifted: null,
  };
  const rows: Row[] = e.report.features.length
    ? e.report.features.map((f) => ({ ...base, feature: f.name, kind: f.kind, method: f.method, statistic: finite(f.statistic), p_value: finite(f.p_value), threshold: f.threshold, drifted: f.drifted }))
    : [base];
  const d = w.dialect;
  const cols = historyColumns.map((c) => d.ident(c.name)).join(', ');
  await w.withRows(historyColumns, rows, (rel) =>
    w.execute(
      // The literal bound prunes partitions: an earlier write of this report (a redelivered trigger) ran after the
      // window started, or before this one, less a day of clock skew.
      `INSERT INTO ${d.table(HISTORY_TABLE)} (${cols}) SELECT ${cols} FROM ${rel.sql} AS s WHERE NOT EXISTS (SELECT 1 FROM ${d.table(HISTORY_TABLE)} AS h WHERE h.created_at >= ${d.timestamp(historySince(e))} AND h.report_id = ${d.param('rid')})`,
      { params: { ...rel.params, rid: { type: 'STRING', value: e.reportId } } },
    ));
}

function historySince(e: HistoryEntry): Date {
  return new Date(Math.min(Date.parse(e.window.start), e.createdAt.getTime()) - 86_400_000);
}

/** Latest reports (one summary line each), newest first. */
export async function readHistory(w: Warehouse, opts: { view?: string; limit?: number } = {}): Promise<Row[]> {
  if (!(await w.getTable(HISTORY_TABLE))) return [];
  const d = w.dialect;
  const where = opts.view ? `WHERE ${d.ident('view')} = ${d.param('view')}` : '';
  const rows = await w.query(
    `SELECT report_id, MIN(created_at) AS created_at, MIN(${d.ident('view')}) AS ${d.ident('view')}, MIN(model) AS model, MIN(baseline_id) AS baseline_id,
       MIN(window_start) AS window_start, MIN(window_end) AS window_end, MAX(CASE WHEN dataset_drift THEN 1 ELSE 0 END) AS dataset_drift,
       MIN(share_drifted) AS share_drifted, MIN(anomalies) AS anomalies, ${countDrifted()} AS drifted_features, MIN(report_uri) AS report_uri
     FROM ${d.table(HISTORY_TABLE)} ${where}
     GROUP BY report_id ORDER BY created_at DESC LIMIT ${Math.max(1, Math.min(1000, Math.floor(opts.limit ?? 20)))}`,
    { params: opts.view ? { view: { type: 'STRING', value: opts.view } } : {} },
  );
  return rows.map((r) => ({ ...r, dataset_drift: Number(r.dataset_drift) === 1 }));
}

function countDrifted(): string {
  return 'SUM(CASE WHEN drifted THEN 1 ELSE 0 END)';
}
