import { createHash } from 'node:crypto';
import { catalog, createEvent, type EventOf } from '../events/catalog.js';
import type { FeatureRepo } from '../features/definitions.js';
import { offlineUnique } from '../features/dedup-sql.js';
import type { EventBus } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { ColumnSchema, Warehouse } from '../ports/warehouse.js';
import { validate, validationKeys, type ValidationOptions } from './anomalies.js';
import { loadBaseline, type Baseline } from './baselines.js';
import { checkCardinality, type CardinalityRule } from './cardinality.js';
import { compareProfiles } from './compare.js';
import { writeHistory } from './history.js';
import { claimTrainingRequest, decide, dedupKey, defaultPolicy, markPublished, type CtPolicy, type Decision } from './policy.js';
import { checkConfig } from './options.js';
import type { Profile, TimeWindow } from './profile.js';
import { run, windowProfileSql, type FeatureSpec } from './profile-sql.js';
import type { DriftReport } from './report.js';

/**
 * One drift check (what functions/detect-drift runs): profile the window in the warehouse, compare with the
 * baseline, validate, write the report (JSON artifact + history rows), publish the drift report, and apply the
 * continuous-training policy. Everything published carries the trigger as its cause, and the training request
 * carries the drift report's event as its cause.
 */
export interface DetectDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  bus: EventBus;
  repo: FeatureRepo;
  bucket: string;
}

export interface DetectOptions {
  policy?: CtPolicy;
  validation?: ValidationOptions;
  /** High-cardinality rule for categorical features (default: cardinality.ts). */
  cardinality?: Partial<CardinalityRule>;
}

/** Check every numeric option against the ranges the CLI uses (options.ts); a bad value is a ConfigError. */
export function checkDetectOptions(opts: DetectOptions): { cardinality: CardinalityRule } {
  checkConfig(opts.policy, ['cooldownSeconds', 'minShareDrifted'], 'policy');
  checkConfig(opts.validation, validationKeys, 'validation');
  return { cardinality: checkCardinality(opts.cardinality, 'config') };
}

export interface DetectResult {
  reportId: string;
  reportUri: string;
  baseline: { id: string; uri: string; version: number };
  window: TimeWindow;
  report: DriftReport;
  decision: Decision;
  driftEventId: string;
  trainingEventId: string | null;
  alertEventId: string | null;
}

const SOURCE = 'ctloop/detect-drift';

/** A trailing window aligned to multiples of its length, so triggers in the same period check the same window. */
export function trailingWindow(at: Date, seconds: number): { start: Date; end: Date } {
  const ms = seconds * 1000;
  const end = Math.floor(at.getTime() / ms) * ms;
  return { start: new Date(end - ms), end: new Date(end) };
}

function hash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24);
}

/** The id of the report a trigger yields for a baseline and window (also how `ctloop drift check --wait` finds it). */
export function reportIdFor(view: string, triggerId: string, baselineId: string, window: TimeWindow): string {
  return `drift-${view}-${window.start.slice(0, 19).replace(/[-:]/g, '')}-${hash(triggerId, baselineId, window.start, window.end)}`;
}

/** JSON has no Infinity/NaN: clamp infinities, keep NaN as null. */
export function jsonSafe<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? null : v > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE) : v))) as T;
}

async function currentProfile(w: Warehouse, table: string, tsField: string, baseline: Baseline, columns: ColumnSchema[], window: { start: Date; end: Date }): Promise<Profile> {
  const types = new Map(columns.map((c) => [c.name, c.type]));
  // Only features present with the baseline's type are profiled; the others become anomalies.
  const specs: FeatureSpec[] = baseline.profile.features
    .filter((f) => types.get(f.name) === f.type)
    .map((f) => ({ name: f.name, type: f.type, kind: f.kind, bins: f.bins }));
  return run(w, windowProfileSql(w.dialect, { relation: w.dialect.table(table), timestampColumn: tsField, window, label: table, unique: offlineUnique(w) }, specs), { ctloop_step: 'drift_check' });
}

export async function detectDrift(deps: DetectDeps, trigger: EventOf<'driftCheckRequested'>, opts: DetectOptions = {}): Promise<DetectResult> {
  const { cardinality } = checkDetectOptions(opts);
  const data = trigger.data;
  const view = deps.repo.view(data.view);
  const baseline = await loadBaseline(deps.objectStore, deps.bucket, data.baseline ?? view.name);
  const baseSeconds = (Date.parse(baseline.window.end) - Date.parse(baseline.window.start)) / 1000;
  const win = data.window
    ? { start: new Date(data.window.start), end: new Date(data.window.end) }
    : trailingWindow(new Date(trigger.time), data.windowSeconds ?? baseSeconds);
  const window: TimeWindow = { start: win.start.toISOString(), end: win.end.toISOString() };
  const table = await deps.warehouse.getTable(view.table);
  const columns = table?.columns ?? [];
  const current = await currentProfile(deps.warehouse, view.table, view.timestampField, baseline, columns, win);
  const anomalies = validate(baseline.profile, current, columns.map((c) => ({ name: c.name, type: c.type })), { ...opts.validation, cardinality });
  const report = jsonSafe(compareProfiles(baseline.profile, current, anomalies, { cardinality, ...(data.preset ? { preset: data.preset } : {}) }));
  const model = data.model ?? view.name;

  const reportId = reportIdFor(view.name, trigger.id, baseline.id, window);
  const reportUri = `gs://${deps.bucket}/drift/reports/${view.name}/${reportId}.json`;
  const now = new Date();
  const artifact = {
    reportId, view: view.name, model, trigger: { id: trigger.id, correlationId: trigger.correlationId },
    baseline: { id: baseline.id, uri: baseline.uri, version: baseline.version, window: baseline.window },
    window, createdAt: now.toISOString(), ...report, current,
  };
  await deps.objectStore.put(reportUri, JSON.stringify(jsonSafe(artifact)), { contentType: 'application/json' });
  await writeHistory(deps.warehouse, { reportId, view: view.name, model, baseline, window, report, reportUri, createdAt: now });

  const driftEvent = createEvent('driftReported', {
    reportId, view: view.name, model, baseline: baseline.id, window, reportUri,
    datasetDrift: report.dataset_drift, shareDrifted: report.share_drifted,
    features: report.features.map((f) => ({ name: f.name, kind: f.kind, method: f.method, statistic: f.statistic, pValue: f.p_value, threshold: f.threshold, drifted: f.drifted })),
    anomalies: report.anomalies.map((a) => ({ kind: a.kind, feature: a.feature, observed: a.observed, expected: a.expected })),
  }, { source: SOURCE, causedBy: trigger, id: `report-${reportId}` });
  await deps.bus.publish(catalog.driftReported.topic, driftEvent);

  const policy = opts.policy ?? defaultPolicy;
  const decision = decide(report, policy);
  let trainingEventId: string | null = null;
  let alertEventId: string | null = null;
  if (decision.action === 'alert') {
    const alert = createEvent('alertRaised', {
      severity: 'critical', reason: `data validation failed for view ${view.name}: ${decision.reason}`, subject: `view/${view.name}`,
      details: { reportId, reportUri, baseline: baseline.id, window, anomalies: report.anomalies },
    }, { source: SOURCE, causedBy: driftEvent, id: `alert-${reportId}` });
    await deps.bus.publish(catalog.alertRaised.topic, alert);
    alertEventId = alert.id;
  } else if (decision.action === 'retrain') {
    const claim = await claimTrainingRequest(deps.warehouse, { model, window, reportId, triggerId: trigger.id, now, cooldownSeconds: policy.cooldownSeconds }, { store: deps.objectStore, bucket: deps.bucket });
    if (claim.publish && claim.eventId) {
      const training = createEvent('trainingRequested', {
        model, reason: 'drift', dedupKey: dedupKey(model, window), driftReportId: reportId,
      }, { source: SOURCE, causedBy: driftEvent, id: claim.eventId });
      await deps.bus.publish(catalog.trainingRequested.topic, training);
      await markPublished(deps.warehouse, claim.eventId, new Date());
      trainingEventId = training.id;
    }
  }
  return {
    reportId, reportUri, baseline: { id: baseline.id, uri: baseline.uri, version: baseline.version }, window, report, decision,
    driftEventId: driftEvent.id, trainingEventId, alertEventId,
  };
}
