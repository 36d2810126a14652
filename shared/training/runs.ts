import { createHash } from 'node:crypto';
import { NotFoundError } from '../errors.js';
import type { ColumnSchema, Row, TableSpec, Warehouse } from '../ports/warehouse.js';

/**
 * Run records (experiment tracking): one row per training request in the warehouse table `_training_runs`, with the
 * trigger and causation chain, parameters, data snapshot URIs and row counts, code version, timings, the job, its
 * state, metrics and the tail of its logs. The run id is derived from the model and the request's dedup key, and the
 * row is claimed with one MERGE, so the same request never gets two runs (or two launches). The MERGE has an UPDATE
 * clause (a no-op) on purpose: BigQuery runs mutating DML on one table serially, while INSERT-only statements may run
 * concurrently and both insert (see shared/drift/policy.ts, which claims training requests the same way).
 */
export const RUNS_TABLE = '_training_runs';

export type RunState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';
export type TerminalState = Extract<RunState, 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED'>;
export const TERMINAL: readonly RunState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'];

const json = (name: string, description: string): ColumnSchema => ({ name, type: 'STRING', description: `${description} (JSON)` });
export const runColumns: ColumnSchema[] = [
  { name: 'run_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'model', type: 'STRING', mode: 'REQUIRED' },
  { name: 'request_key', type: 'STRING', mode: 'REQUIRED', description: 'dedup key of the training request' },
  { name: 'request_event_id', type: 'STRING', mode: 'REQUIRED', description: 'the event that claimed the run' },
  { name: 'correlation_id', type: 'STRING' },
  { name: 'trigger', type: 'STRING', mode: 'REQUIRED', description: 'drift, schedule or manual' },
  { name: 'drift_report_id', type: 'STRING' },
  { name: 'backend', type: 'STRING', mode: 'REQUIRED', description: 'local or vertex' },
  { name: 'state', type: 'STRING', mode: 'REQUIRED' },
  { name: 'job_id', type: 'STRING', description: 'Vertex AI CustomJob name or local process id' },
  json('params', 'trainer command/image, args, machine type, timeout, split windows'),
  json('datasets', 'split URIs, row counts and windows'),
  { name: 'code_version', type: 'STRING' },
  { name: 'model_uri', type: 'STRING' },
  { name: 'baseline_uri', type: 'STRING' },
  json('metrics', 'metrics.json of the trainer'),
  { name: 'error', type: 'STRING' },
  { name: 'logs_uri', type: 'STRING' },
  { name: 'created_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'launched_at', type: 'TIMESTAMP' },
  { name: 'deadline_at', type: 'TIMESTAMP', description: 'after this, an unfinished run is expired by the reconciler' },
  { name: 'finished_at', type: 'TIMESTAMP' },
  { name: 'completion_event_id', type: 'STRING' },
];

export const runsTable: TableSpec = {
  name: RUNS_TABLE, columns: runColumns, partitionBy: 'created_at', clusterBy: ['model', 'state'],
  description: 'ctloop training runs (experiment tracking)', labels: { ctloop_kind: 'training_runs' },
};

export interface Run {
  runId: string;
  model: string;
  requestKey: string;
  requestEventId: string;
  correlationId: string | null;
  trigger: string;
  driftReportId: string | null;
  backend: string;
  state: RunState;
  jobId: string | null;
  params: Record<string, unknown>;
  datasets: Record<string, unknown>;
  codeVersion: string | null;
  modelUri: string | null;
  baselineUri: string | null;
  metrics: Record<string, unknown>;
  error: string | null;
  logsUri: string | null;
  createdAt: string;
  launchedAt: string | null;
  deadlineAt: string | null;
  finishedAt: string | null;
  completionEventId: string | null;
}

export function runIdFor(model: string, requestKey: string): string {
  return `${model.replace(/_/g, '-')}-${createHash('sha256').update(`${model}\n${requestKey}`).digest('hex').slice(0, 16)}`;
}

const ensured = new WeakSet<Warehouse>();
export async function ensureRunsTable(w: Warehouse): Promise<void> {
  if (ensured.has(w)) return;
  if (!(await w.getTable(RUNS_TABLE))) {
    try {
      await w.createTable(runsTable);
    } catch (err) {
      if (!(await w.getTable(RUNS_TABLE))) throw err; // a concurrent creator won
    }
  }
  ensured.add(w);
}

const s = (v: string | null | undefined) => ({ type: 'STRING' as const, value: v ?? null });
const t = (v: Date | null | undefined) => ({ type: 'TIMESTAMP' as const, value: v ?? null });

export interface NewRun {
  runId: string;
  model: string;
  requestKey: string;
  requestEventId: string;
  correlationId: string;
  trigger: string;
  driftReportId?: string;
  backend: string;
  codeVersion: string;
  now: Date;
}

/**
 * Claim the run of a request. Returns the run and whether this event owns it: true for the first event of the
 * request and for redeliveries of that same event (which resume where it stopped), false for another event carrying
 * the same request (a duplicate: it must launch nothing).
 */
export async function claimRun(w: Warehouse, r: NewRun): Promise<{ run: Run; owner: boolean }> {
  await ensureRunsTable(w);
  const d = w.dialect;
  const p = d.param.bind(d);
  await w.execute(
    `MERGE INTO ${d.table(RUNS_TABLE)} AS t
     USING (SELECT ${p('run_id')} AS run_id) AS s ON t.run_id = s.run_id
     WHEN MATCHED THEN UPDATE SET request_key = t.request_key
     WHEN NOT MATCHED THEN INSERT (run_id, model, request_key, request_event_id, correlation_id, trigger, drift_report_id, backend, state, code_version, params, datasets, metrics, created_at)
       VALUES (s.run_id, ${p('model')}, ${p('key')}, ${p('eid')}, ${p('cid')}, ${p('trigger')}, ${p('drift')}, ${p('backend')}, 'PENDING', ${p('code')}, '{}', '{}', '{}', ${p('now')})`,
    {
      params: {
        run_id: s(r.runId), model: s(r.model), key: s(r.requestKey), eid: s(r.requestEventId), cid: s(r.correlationId), trigger: s(r.trigger),
        drift: s(r.driftReportId), backend: s(r.backend), code: s(r.codeVersion), now: t(r.now),
      },
    },
  );
  const run = await getRun(w, r.runId);
  return { run, owner: run.requestEventId === r.requestEventId };
}

/** Readers never create the table (they also run on a read-only state directory): no table, no runs. */
async function hasRunsTable(w: Warehouse): Promise<boolean> {
  return ensured.has(w) || (await w.getTable(RUNS_TABLE)) !== null;
}

export async function findRun(w: Warehouse, runId: string): Promise<Run | null> {
  if (!(await hasRunsTable(w))) return null;
  const d = w.dialect;
  const rows = await w.query(`SELECT * FROM ${d.table(RUNS_TABLE)} WHERE run_id = ${d.param('id')}`, { params: { id: s(runId) } });
  return rows[0] ? toRun(rows[0]) : null;
}

export async function getRun(w: Warehouse, runId: string): Promise<Run> {
  const run = await findRun(w, runId);
  if (!run) throw new NotFoundError(`training run ${runId} does not exist`, { hint: 'list runs with: ctloop runs list' });
  return run;
}

export async function findRunByJob(w: Warehouse, jobId: string): Promise<Run | null> {
  if (!(await hasRunsTable(w))) return null;
  const d = w.dialect;
  const rows = await w.query(`SELECT * FROM ${d.table(RUNS_TABLE)} WHERE job_id = ${d.param('j')}`, { params: { j: s(jobId) } });
  return rows[0] ? toRun(rows[0]) : null;
}

export async function listRuns(w: Warehouse, opts: { model?: string; unfinished?: boolean; limit?: number } = {}): Promise<Run[]> {
  if (!(await hasRunsTable(w))) return [];
  const d = w.dialect;
  const where = [
    ...(opts.model ? [`model = ${d.param('m')}`] : []),
    ...(opts.unfinished ? ['finished_at IS NULL'] : []),
  ];
  const rows = await w.query(
    `SELECT * FROM ${d.table(RUNS_TABLE)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, run_id LIMIT ${Math.max(1, Math.floor(opts.limit ?? 100))}`,
    { params: opts.model ? { m: s(opts.model) } : {} },
  );
  return rows.map(toRun);
}

/** Record the exported data and parameters before launching. */
export async function recordPrepared(w: Warehouse, runId: string, v: { params: Record<string, unknown>; datasets: Record<string, unknown>; baselineUri: string; logsUri: string; modelUri: string }): Promise<void> {
  const d = w.dialect;
  await w.execute(
    `UPDATE ${d.table(RUNS_TABLE)} SET params = ${d.param('params')}, datasets = ${d.param('datasets')}, baseline_uri = ${d.param('b')}, logs_uri = ${d.param('l')}, model_uri = ${d.param('mu')}
     WHERE run_id = ${d.param('id')} AND finished_at IS NULL`,
    { params: { params: s(JSON.stringify(v.params)), datasets: s(JSON.stringify(v.datasets)), b: s(v.baselineUri), l: s(v.logsUri), mu: s(v.modelUri), id: s(runId) } },
  );
}

export async function recordLaunched(w: Warehouse, runId: string, v: { jobId: string; at: Date; deadline: Date }): Promise<void> {
  const d = w.dialect;
  await w.execute(
    `UPDATE ${d.table(RUNS_TABLE)} SET state = 'RUNNING', job_id = ${d.param('j')}, launched_at = ${d.param('at')}, deadline_at = ${d.param('dl')}
     WHERE run_id = ${d.param('id')} AND finished_at IS NULL`,
    { params: { j: s(v.jobId), at: t(v.at), dl: t(v.deadline), id: s(runId) } },
  );
}

export async function recordFinished(w: Warehouse, runId: string, v: { state: TerminalState; at: Date; metrics: Record<string, unknown>; error?: string; modelUri?: string | null; completionEventId: string }): Promise<void> {
  const d = w.dialect;
  await w.execute(
    `UPDATE ${d.table(RUNS_TABLE)} SET state = ${d.param('st')}, finished_at = ${d.param('at')}, metrics = ${d.param('m')}, error = ${d.param('e')},
       model_uri = ${d.param('mu')}, completion_event_id = ${d.param('ce')}
     WHERE run_id = ${d.param('id')} AND finished_at IS NULL`,
    { params: { st: s(v.state), at: t(v.at), m: s(JSON.stringify(v.metrics)), e: s(v.error), mu: s(v.modelUri), ce: s(v.completionEventId), id: s(runId) } },
  );
}

const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));
const obj = (v: unknown): Record<string, unknown> => {
  if (typeof v !== 'string' || v === '') return {};
  try {
    const o = JSON.parse(v) as unknown;
    return o !== null && typeof o === 'object' ? (o as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

function toRun(r: Row): Run {
  return {
    runId: String(r.run_id), model: String(r.model), requestKey: String(r.request_key), requestEventId: String(r.request_event_id),
    correlationId: str(r.correlation_id), trigger: String(r.trigger), driftReportId: str(r.drift_report_id), backend: String(r.backend),
    state: String(r.state) as RunState, jobId: str(r.job_id), params: obj(r.params), datasets: obj(r.datasets), codeVersion: str(r.code_version),
    modelUri: str(r.model_uri), baselineUri: str(r.baseline_uri), metrics: obj(r.metrics), error: str(r.error), logsUri: str(r.logs_uri),
    createdAt: iso(r.created_at)!, launchedAt: iso(r.launched_at), deadlineAt: iso(r.deadline_at), finishedAt: iso(r.finished_at),
    completionEventId: str(r.completion_event_id),
  };
}
