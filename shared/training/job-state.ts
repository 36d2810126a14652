import type { EventBus } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Warehouse } from '../ports/warehouse.js';
import { log } from '../runtime/log.js';
import { completeRun } from './complete.js';
import { isTerminal, type TrainingLauncher } from './launcher.js';
import { findRunByJob, listRuns, type Run } from './runs.js';

export interface JobStateDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  bus: EventBus;
  launcher: TrainingLauncher;
  project: string;
  region: string;
  now?: () => Date;
}

/** The CustomJob a Cloud Logging entry of the job-state sink is about (`resource.type="ml_job"`), or null. */
export function jobNameOfLogEntry(entry: unknown, project: string, region: string): string | null {
  const res = (entry as { resource?: { type?: unknown; labels?: Record<string, unknown> } } | null)?.resource;
  if (!res || res.type !== 'ml_job') return null;
  const id = res.labels?.job_id;
  if (typeof id !== 'string' || !/^\d+$/.test(id)) return null;
  const p = typeof res.labels?.project_id === 'string' && res.labels.project_id ? res.labels.project_id : project;
  return `projects/${p}/locations/${region}/customJobs/${id}`;
}

/**
 * A job-state log line arrived (Vertex AI CustomJob service lines → log sink → Pub/Sub): the line itself is only a
 * hint. Read the job (getCustomJob) and act only on a terminal state; a job that is not one of ours, or whose run
 * is already finished, is ignored — so the many lines of one job complete its run once.
 */
export async function onJobStateLog(deps: JobStateDeps, entry: unknown): Promise<{ action: 'ignored' | 'not-terminal' | 'completed' | 'already-finished'; jobId?: string; runId?: string }> {
  const name = jobNameOfLogEntry(entry, deps.project, deps.region);
  if (!name) return { action: 'ignored' };
  const run = await findRunByJob(deps.warehouse, name);
  if (!run) return { action: 'ignored', jobId: name };
  if (run.finishedAt) return { action: 'already-finished', jobId: name, runId: run.runId };
  const status = await deps.launcher.status(name);
  if (!isTerminal(status.state)) return { action: 'not-terminal', jobId: name, runId: run.runId };
  await completeRun(deps, run.runId, status);
  return { action: 'completed', jobId: name, runId: run.runId };
}

/** How long a claimed run may stay unlaunched before the reconciler fails it (the launch takes minutes). */
const LAUNCH_GRACE_MS = 2 * 3600 * 1000;

/**
 * The safety net behind the completion events: every unfinished run is looked at once. A job in a terminal state is
 * completed (its log line or completion message was lost); a run past its deadline is expired; a run never launched
 * long after its claim is failed. Idempotent: completion publishes one event per run, whoever gets there first.
 */
export async function reconcileRuns(deps: JobStateDeps): Promise<{ runId: string; outcome: string }[]> {
  const now = (deps.now ?? (() => new Date()))();
  const out: { runId: string; outcome: string }[] = [];
  for (const run of await listRuns(deps.warehouse, { unfinished: true, limit: 1000 })) {
    out.push({ runId: run.runId, outcome: await reconcileOne(deps, run, now) });
  }
  if (out.length) log('info', 'training runs reconciled', { runs: out });
  return out;
}

async function reconcileOne(deps: JobStateDeps, run: Run, now: Date): Promise<string> {
  if (run.backend !== deps.launcher.backend) return `skipped: run on ${run.backend}, reconciler on ${deps.launcher.backend}`;
  if (!run.jobId) {
    if (now.getTime() - Date.parse(run.createdAt) < LAUNCH_GRACE_MS) return 'pending launch';
    await completeRun(deps, run.runId, { state: 'FAILED', error: `the run was claimed at ${run.createdAt} but its job was never started` });
    return 'FAILED (never launched)';
  }
  const status = await deps.launcher.status(run.jobId);
  if (isTerminal(status.state)) {
    await completeRun(deps, run.runId, status);
    return status.state;
  }
  if (run.deadlineAt && now.getTime() > Date.parse(run.deadlineAt)) {
    await completeRun(deps, run.runId, { state: 'EXPIRED', error: `job ${run.jobId} was still ${status.state} at its deadline ${run.deadlineAt}` });
    return 'EXPIRED (deadline)';
  }
  return status.state;
}
