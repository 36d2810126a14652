import { catalog, createEvent } from '../events/catalog.js';
import type { EventBus } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Warehouse } from '../ports/warehouse.js';
import { log } from '../runtime/log.js';
import { isTerminal, type JobStatus } from './launcher.js';
import { findRun, recordFinished, type Run, type TerminalState } from './runs.js';

export interface CompleteDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  bus: EventBus;
  now?: () => Date;
}

export const COMPLETION_SOURCE = 'ctloop/launch-training';

/** Deterministic: however often a job's end is reported (log lines, reconciler, redelivery), one event id. */
export function completionEventId(runId: string): string {
  return `training-completed-${runId}`;
}

/**
 * Turn a job's terminal state into `training.completed`, once per run. A job that says it succeeded but wrote no
 * model is a failure; every failure carries the reason and the tail of the logs. The event is published before the
 * run is marked finished (with a deterministic id), so a crash in between republishes the same event rather than
 * leaving the run silent. Non-terminal states are ignored: the caller was told too early.
 */
export async function completeRun(deps: CompleteDeps, runId: string, status: JobStatus): Promise<{ published: boolean; state?: TerminalState }> {
  if (!isTerminal(status.state)) return { published: false };
  const run = await findRun(deps.warehouse, runId);
  if (!run) {
    log('warning', 'training job finished but has no run record; ignored', { runId, state: status.state });
    return { published: false };
  }
  if (run.finishedAt) return { published: false, state: run.state as TerminalState };
  let state: TerminalState = status.state;
  let error = status.error;
  let metrics: Record<string, unknown> = {};
  const modelDir = run.modelUri ?? '';
  if (state === 'SUCCEEDED') {
    const checked = await checkModel(deps.objectStore, modelDir);
    if (checked.error) [state, error] = ['FAILED', checked.error];
    else metrics = checked.metrics;
  }
  if (state === 'SUCCEEDED' && run.baselineUri) {
    // The training set's profile travels with the model (the drift baseline of whatever serves it).
    await deps.objectStore.put(`${modelDir}baseline_profile.json`, await deps.objectStore.get(run.baselineUri), { contentType: 'application/json' });
  }
  const datasets = datasetsOf(run);
  const event = createEvent('trainingCompleted', {
    model: run.model, jobId: run.jobId ?? run.runId, state, runId: run.runId, trigger: run.trigger as 'drift' | 'schedule' | 'manual',
    ...(run.driftReportId ? { driftReportId: run.driftReportId } : {}),
    ...(state === 'SUCCEEDED' ? { modelUri: modelDir, ...(run.baselineUri ? { baselineUri: `${modelDir}baseline_profile.json` } : {}) } : {}),
    metrics: numeric(metrics),
    ...(error ? { error } : {}),
    ...(state !== 'SUCCEEDED' && status.logsTail ? { logsTail: status.logsTail } : {}),
    ...(run.logsUri ? { logsUri: run.logsUri } : {}),
    ...(Object.keys(datasets).length ? { datasets } : {}),
  }, {
    source: COMPLETION_SOURCE, id: completionEventId(run.runId),
    causedBy: { id: run.requestEventId, correlationId: run.correlationId ?? run.requestEventId },
  });
  await deps.bus.publish(catalog.trainingCompleted.topic, event);
  await recordFinished(deps.warehouse, run.runId, {
    state, at: (deps.now ?? (() => new Date()))(), metrics: { ...metrics, ...(status.logsTail && state !== 'SUCCEEDED' ? { logs_tail: status.logsTail } : {}) },
    ...(error ? { error } : {}), modelUri: state === 'SUCCEEDED' ? modelDir : null, completionEventId: event.id,
  });
  log(state === 'SUCCEEDED' ? 'info' : 'warning', 'training completed', { runId, model: run.model, state, error, eventId: event.id });
  return { published: true, state };
}

async function checkModel(store: ObjectStore, modelDir: string): Promise<{ error?: string; metrics: Record<string, unknown> }> {
  if (!modelDir || !(await store.exists(`${modelDir}model.bst`))) {
    return { error: `the trainer finished without writing a model (no model.bst in ${modelDir || 'its model directory'})`, metrics: {} };
  }
  if (!(await store.exists(`${modelDir}metrics.json`))) return { error: `the trainer wrote no metrics.json in ${modelDir}`, metrics: {} };
  try {
    const m = JSON.parse((await store.get(`${modelDir}metrics.json`)).toString('utf8')) as unknown;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return { error: `${modelDir}metrics.json is not a JSON object`, metrics: {} };
    return { metrics: m as Record<string, unknown> };
  } catch (err) {
    return { error: `${modelDir}metrics.json is not valid JSON: ${(err as Error).message}`, metrics: {} };
  }
}

function numeric(m: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
}

function datasetsOf(run: Run): Record<string, { uri: string; rows: number }> {
  const splits = (run.datasets as { splits?: Record<string, { uri?: unknown; rows?: unknown }> }).splits ?? {};
  return Object.fromEntries(Object.entries(splits).flatMap(([k, v]) => (typeof v.uri === 'string' && typeof v.rows === 'number' ? [[k, { uri: v.uri, rows: v.rows }]] : [])));
}
