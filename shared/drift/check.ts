import { catalog, createEvent, parseEventOf, type EventOf } from '../events/catalog.js';
import type { Envelope } from '../events/envelope.js';
import { BackendError, ValidationError } from '../errors.js';
import type { EventHandler } from '../runtime/cloud-event.js';
import type { EventName } from '../events/catalog.js';
import { startLocalFunctions } from '../runtime/local-loop.js';
import type { Runtime } from '../runtime/runtime.js';
import { runIdFor } from '../training/runs.js';
import { loadBaseline } from './baselines.js';
import { reportIdFor } from './detect.js';
import { HISTORY_TABLE } from './history.js';
import { decide, REQUESTS_TABLE } from './policy.js';
import type { TimeWindow } from './profile.js';
import type { DriftReport } from './report.js';

/**
 * On-demand drift checks (`ctloop drift check`): a `driftCheckRequested` event for an explicit window, published on
 * the loop's bus like a scheduled one, so detect-drift handles it (report, history, CT policy) exactly as it would
 * handle Cloud Scheduler's. The outcome is found by the chain of causation ids (embedded) or by the report id the
 * trigger yields (elsewhere: the report lands in the drift history).
 */
export interface DriftCheckRequest {
  view: string;
  from: Date;
  to: Date;
  model?: string;
  baseline?: string;
  preset?: 'evidently' | 'vertex';
}

export interface DriftCheckOutcome {
  triggerId: string;
  correlationId: string;
  reportId: string;
  reportUri: string;
  view: string;
  baseline: string;
  window: TimeWindow;
  report: DriftReport;
  /** What the continuous-training policy did, with the event it published. */
  decision: { action: 'retrain' | 'alert' | 'none'; eventId: string | null; runId: string | null; reason: string | null };
}

const SOURCE = 'ctloop/cli/drift-check';

/** The trigger event, checked before anything is published: the view exists, the window is not empty, the baseline exists. */
export async function driftCheckEvent(rt: Runtime, req: DriftCheckRequest): Promise<{ event: EventOf<'driftCheckRequested'>; baselineId: string }> {
  const view = rt.repo.view(req.view);
  if (!(req.from.getTime() < req.to.getTime())) {
    throw new ValidationError(`the window is empty: --from ${req.from.toISOString()} is not before --to ${req.to.toISOString()}`, { hint: 'pass --from earlier than --to' });
  }
  const baseline = await loadBaseline(rt.objectStore, rt.config.artifactBucket, req.baseline ?? view.name);
  const event = createEvent('driftCheckRequested', {
    view: view.name, window: { start: req.from.toISOString(), end: req.to.toISOString() },
    ...(req.model ? { model: req.model } : {}), ...(req.baseline ? { baseline: req.baseline } : {}), ...(req.preset ? { preset: req.preset } : {}),
  }, { source: SOURCE });
  return { event, baselineId: baseline.id };
}

/** The report id detect-drift gives this trigger (it is derived from the trigger, the baseline and the window). */
export function expectedReportId(event: EventOf<'driftCheckRequested'>, baselineId: string): string {
  return reportIdFor(event.data.view, event.id, baselineId, event.data.window!);
}

/**
 * Embedded mode: the in-process bus only delivers to subscriptions that exist, so the loop's functions run here while
 * the check is handled. A training request that follows is launched by launch-training; with `waitTraining` the
 * local trainer is awaited (and its completion evaluated) before returning.
 */
export async function runDriftCheckLocally(
  rt: Runtime, event: EventOf<'driftCheckRequested'>, handlers: Record<string, EventHandler<EventName>>,
  opts: { waitTraining?: (rt: Runtime) => Promise<void>; say?: (m: string) => void } = {},
): Promise<DriftCheckOutcome> {
  const seen: Envelope[] = [];
  const subs = [];
  for (const name of ['driftReported', 'trainingRequested', 'alertRaised'] as const) {
    subs.push(await rt.bus.subscribe({ name: `ctloop-cli-drift-check-${name}-${process.pid}`, topic: catalog[name].topic }, async (e) => void seen.push(e)));
  }
  const fns = await startLocalFunctions(rt, handlers);
  try {
    await rt.bus.publish(catalog.driftCheckRequested.topic, event);
    await rt.bus.drain(600_000);
    const reported = seen.find((e) => e.type === catalog.driftReported.type && e.causationId === event.id);
    if (!reported) {
      throw new BackendError(`detect-drift did not report on check ${event.id}: it failed to handle the request`, {
        hint: 'see why with: ctloop dead-letters list --consumer detect-drift',
      });
    }
    const drift = parseEventOf('driftReported', reported);
    const next = seen.find((e) => e.causationId === drift.id);
    const training = next?.type === catalog.trainingRequested.type ? parseEventOf('trainingRequested', next) : null;
    if (training && opts.waitTraining) {
      opts.say?.(`drift → training request ${training.id}: training ${training.data.model} locally…`);
      await opts.waitTraining(rt);
      await rt.bus.drain(600_000);
    }
    return outcome(rt, event, drift.data.reportId, drift.data.reportUri, drift.data.baseline, next ?? null);
  } finally {
    await fns.stop();
    for (const s of subs) await s.close();
  }
}

/** Elsewhere (emulators, GCP): the function runs in its own process; read the drift history until the report is there. */
export async function awaitDriftReport(rt: Runtime, event: EventOf<'driftCheckRequested'>, baselineId: string, timeoutSeconds: number, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<DriftCheckOutcome> {
  const reportId = expectedReportId(event, baselineId);
  const until = Date.now() + timeoutSeconds * 1000;
  const d = rt.warehouse.dialect;
  for (;;) {
    if (await rt.warehouse.getTable(HISTORY_TABLE)) {
      const rows = await rt.warehouse.query(`SELECT report_uri FROM ${d.table(HISTORY_TABLE)} WHERE report_id = ${d.param('id')} LIMIT 1`, { params: { id: { type: 'STRING', value: reportId } } });
      if (rows[0]) return withLedgerDecision(rt, await outcome(rt, event, reportId, String(rows[0].report_uri), baselineId, null));
    }
    if (Date.now() > until) {
      throw new BackendError(`no drift report ${reportId} after ${timeoutSeconds} s: detect-drift has not handled check ${event.id}`, {
        hint: 'is the detect-drift function deployed and subscribed? see also: ctloop dead-letters list --consumer detect-drift',
      });
    }
    await sleep(3000);
  }
}

/** Without the events in hand: the training-request ledger says whether the report requested training; a blocking anomaly raised an alert. */
async function withLedgerDecision(rt: Runtime, o: DriftCheckOutcome): Promise<DriftCheckOutcome> {
  const d = rt.warehouse.dialect;
  if (await rt.warehouse.getTable(REQUESTS_TABLE)) {
    const rows = await rt.warehouse.query(`SELECT event_id, model, dedup_key FROM ${d.table(REQUESTS_TABLE)} WHERE report_id = ${d.param('id')} LIMIT 1`, { params: { id: { type: 'STRING', value: o.reportId } } });
    if (rows[0]) return { ...o, decision: { action: 'retrain', eventId: String(rows[0].event_id), runId: runIdFor(String(rows[0].model), String(rows[0].dedup_key)), reason: `${(o.report.share_drifted * 100).toFixed(0)}% of features drifted` } };
  }
  const d2 = decide(o.report);
  if (d2.action === 'alert') return { ...o, decision: { action: 'alert', eventId: `alert-${o.reportId}`, runId: null, reason: d2.reason } };
  return { ...o, decision: { action: 'none', eventId: null, runId: null, reason: d2.action === 'none' ? d2.reason : 'drift, but no training was requested (a request for this model is within the cooldown)' } };
}

async function outcome(rt: Runtime, event: EventOf<'driftCheckRequested'>, reportId: string, reportUri: string, baseline: string, next: Envelope | null): Promise<DriftCheckOutcome> {
  const artifact = JSON.parse((await rt.objectStore.get(reportUri)).toString('utf8')) as DriftReport & { window: TimeWindow; view: string };
  const report: DriftReport = {
    dataset_drift: artifact.dataset_drift, drift_share: artifact.drift_share, share_drifted: artifact.share_drifted,
    features: artifact.features, anomalies: artifact.anomalies, skipped: artifact.skipped ?? [],
  };
  let decision: DriftCheckOutcome['decision'] = { action: 'none', eventId: null, runId: null, reason: null };
  if (next?.type === catalog.trainingRequested.type) {
    const t = parseEventOf('trainingRequested', next);
    decision = { action: 'retrain', eventId: t.id, runId: runIdFor(t.data.model, t.data.dedupKey), reason: `${(report.share_drifted * 100).toFixed(0)}% of features drifted` };
  } else if (next?.type === catalog.alertRaised.type) {
    const a = parseEventOf('alertRaised', next);
    decision = { action: 'alert', eventId: a.id, runId: null, reason: a.data.reason };
  } else {
    const d = decide(report);
    decision.reason = d.action === 'none' ? d.reason : 'drift, but no training was requested (a request for this model is within the cooldown)';
  }
  return { triggerId: event.id, correlationId: event.correlationId, reportId, reportUri, view: artifact.view, baseline, window: artifact.window, report, decision };
}
