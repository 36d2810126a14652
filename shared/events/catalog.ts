import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { fastData, fastEnvelope } from './fast-parse.js';
import { envelopeSchema, eventInstant, eventTime, makeEnvelope, type Envelope, type EnvelopeOptions } from './envelope.js';

/**
 * The event catalog: every message of the continuous-training loop, in one place. Each entry has a versioned type
 * name, the topic it travels on, and a zod schema for its `data`. Infrastructure (topics, subscriptions, scheduler
 * payloads) and the emulator wiring are generated from this table, so code and infrastructure cannot disagree.
 */

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an identifier: letters, digits, _');
const uri = z.string().regex(/^gs:\/\/[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]\/.+$/, 'must be a gs://bucket/path URI');
const timeWindow = z.object({ start: eventTime, end: eventTime }).refine((w) => {
  const [start, end] = [eventInstant(w.start), eventInstant(w.end)];
  return !start || !end || start < end; // an invalid bound is reported by eventTime
}, {
  message: 'window.start must be before window.end',
});
const metricMap = z.record(z.string(), z.number());

export const featureRowsData = z.object({
  view: identifier,
  /**
   * Raw rows as produced by the application; each is validated against the view and bad rows (including ones that
   * are not objects at all) are quarantined one by one, so one bad row never sinks the batch.
   */
  rows: z.array(z.unknown()).min(1).max(10_000),
});

export const featureFileReadyData = z.object({
  view: identifier,
  uri,
  format: z.enum(['csv', 'jsonl', 'parquet']).optional(),
});

/** Compact one day of an offline feature table (or of the quarantine): remove copies left by at-least-once appends. */
export const featureCompactionRequestedData = z.object({
  /** The feature view whose offline table to compact; absent with `quarantine: true`. */
  view: identifier.optional(),
  quarantine: z.literal(true).optional(),
  /** UTC day (YYYY-MM-DD) to compact; absent: the day before the trigger time (yesterday's partition). */
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'day is YYYY-MM-DD').optional(),
}).refine((d) => (d.view === undefined) === (d.quarantine === true), { message: 'give either view or quarantine: true' });

export const driftCheckRequestedData = z.object({
  /** What to check: a feature view's window, or a model's serving window (prediction log). */
  view: identifier,
  model: z.string().min(1).optional(),
  /** Baseline artifact to compare with; defaults to the serving model's, then the view's registered baseline. */
  baseline: z.string().min(1).optional(),
  /** Explicit window; when absent the function uses the trailing `windowSeconds` before the trigger time. */
  window: timeWindow.optional(),
  windowSeconds: z.number().int().positive().optional(),
  preset: z.enum(['evidently', 'vertex']).optional(),
});

export const featureDriftResult = z.object({
  name: z.string(),
  kind: z.enum(['numerical', 'categorical']),
  method: z.string(),
  statistic: z.number(),
  pValue: z.number().nullable(),
  threshold: z.number(),
  drifted: z.boolean(),
});

export const driftReportedData = z.object({
  reportId: z.string().min(1),
  view: identifier,
  model: z.string().optional(),
  baseline: z.string(),
  window: timeWindow,
  reportUri: uri,
  datasetDrift: z.boolean(),
  shareDrifted: z.number().min(0).max(1),
  features: z.array(featureDriftResult),
  anomalies: z.array(z.object({ kind: z.string(), feature: z.string().nullable(), observed: z.unknown(), expected: z.unknown() })),
});

export const alertRaisedData = z.object({
  severity: z.enum(['info', 'warning', 'critical']),
  reason: z.string().min(1),
  subject: z.string().min(1),
  details: z.record(z.string(), z.unknown()).default({}),
});

export const trainingRequestedData = z.object({
  model: z.string().min(1),
  reason: z.enum(['drift', 'schedule', 'manual']),
  /** Dedup key: two triggers for the same model and window yield one request. */
  dedupKey: z.string().min(1),
  trainingWindow: timeWindow.optional(),
  driftReportId: z.string().optional(),
});

export const trainingCompletedData = z.object({
  model: z.string().min(1),
  jobId: z.string().min(1),
  state: z.enum(['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED']),
  modelUri: uri.optional(),
  baselineUri: uri.optional(),
  metrics: metricMap.default({}),
  error: z.string().optional(),
  /** Run record (shared/training/runs.ts) and lineage: what the model was trained on and why. */
  runId: z.string().min(1).optional(),
  trigger: z.enum(['drift', 'schedule', 'manual']).optional(),
  driftReportId: z.string().optional(),
  datasets: z.record(z.string(), z.object({ uri, rows: z.number().int().nonnegative() })).optional(),
  /** Last lines of the trainer's logs (failures), and where the whole log is. */
  logsTail: z.string().optional(),
  logsUri: uri.optional(),
});

export const modelEvaluatedData = z.object({
  model: z.string().min(1),
  candidateVersion: z.string().min(1),
  championVersion: z.string().nullable(),
  blessed: z.boolean(),
  metrics: metricMap,
  failedChecks: z.array(z.object({ check: z.string(), slice: z.string().nullable(), detail: z.string() })),
  /** The training run evaluated, and the full evaluation report (every check, metrics per slice). */
  runId: z.string().min(1).optional(),
  evaluationUri: uri.optional(),
});

export const deployRequestedData = z.object({
  model: z.string().min(1),
  version: z.string().min(1),
  canaryPercent: z.number().int().min(0).max(100).default(10),
});

export const modelDeployedData = z.object({
  model: z.string().min(1),
  version: z.string().min(1),
  endpoint: z.string().min(1),
  deployedModelId: z.string().min(1),
  trafficSplit: z.record(z.string(), z.number().int().min(0).max(100)),
});

export const deploymentRolledBackData = z.object({
  model: z.string().min(1),
  fromVersion: z.string().min(1),
  toVersion: z.string().nullable(),
  endpoint: z.string().min(1),
  reason: z.string().min(1),
});

export const deploymentCheckRequestedData = z.object({
  /** Advance this model's rollout only; absent = every active rollout. */
  model: z.string().min(1).optional(),
});

interface CatalogEntry<S extends z.ZodType> {
  /** Versioned type name carried in the envelope and in the message's `type` attribute. */
  type: string;
  /** Pub/Sub topic id (without project); its dead-letter topic is `<topic>-dead-letter`. */
  topic: string;
  description: string;
  schema: S;
}

function entry<S extends z.ZodType>(e: CatalogEntry<S>): CatalogEntry<S> {
  return e;
}

export const catalog = {
  featureRows: entry({ type: 'ctloop.feature.rows.v1', topic: 'ctloop-feature-rows', schema: featureRowsData,
    description: 'A batch of feature rows for one feature view, published by application services.' }),
  featureFileReady: entry({ type: 'ctloop.feature.file_ready.v1', topic: 'ctloop-feature-files', schema: featureFileReadyData,
    description: 'A CSV/JSONL/Parquet file of feature rows is ready to be loaded into a view.' }),
  featureCompactionRequested: entry({ type: 'ctloop.feature.compaction_requested.v1', topic: 'ctloop-feature-compactions', schema: featureCompactionRequestedData,
    description: 'Remove duplicate copies from one day of an offline feature table or the quarantine (sent daily by Cloud Scheduler).' }),
  driftCheckRequested: entry({ type: 'ctloop.drift.check_requested.v1', topic: 'ctloop-drift-checks', schema: driftCheckRequestedData,
    description: 'Compute drift of a window against a baseline (sent by Cloud Scheduler or a local timer).' }),
  driftReported: entry({ type: 'ctloop.drift.reported.v1', topic: 'ctloop-drift-reports', schema: driftReportedData,
    description: 'A drift and data-validation report was written.' }),
  alertRaised: entry({ type: 'ctloop.alert.raised.v1', topic: 'ctloop-alerts', schema: alertRaisedData,
    description: 'Something needs a human (missing feature, broken data, failed rollout).' }),
  trainingRequested: entry({ type: 'ctloop.training.requested.v1', topic: 'ctloop-training-requests', schema: trainingRequestedData,
    description: 'Train a new candidate for a model.' }),
  trainingCompleted: entry({ type: 'ctloop.training.completed.v1', topic: 'ctloop-training-results', schema: trainingCompletedData,
    description: 'A training job reached a terminal state.' }),
  modelEvaluated: entry({ type: 'ctloop.model.evaluated.v1', topic: 'ctloop-model-evaluations', schema: modelEvaluatedData,
    description: 'A candidate was validated against the serving champion on slices.' }),
  deployRequested: entry({ type: 'ctloop.deploy.requested.v1', topic: 'ctloop-deploy-requests', schema: deployRequestedData,
    description: 'Deploy a blessed model version behind the inference endpoint, as a canary.' }),
  modelDeployed: entry({ type: 'ctloop.model.deployed.v1', topic: 'ctloop-model-deployments', schema: modelDeployedData,
    description: 'A model version is serving with the given traffic split.' }),
  deploymentCheckRequested: entry({ type: 'ctloop.deployment.check_requested.v1', topic: 'ctloop-deployment-checks', schema: deploymentCheckRequestedData,
    description: 'Advance active rollouts: resume endpoint operations, end canary periods (sent every minute by Cloud Scheduler or the local timer).' }),
  deploymentRolledBack: entry({ type: 'ctloop.deployment.rolled_back.v1', topic: 'ctloop-rollbacks', schema: deploymentRolledBackData,
    description: 'A canary or deployment was rolled back to the previous version.' }),
} as const;

export type Catalog = typeof catalog;
export type EventName = keyof Catalog;
export type EventData<N extends EventName> = z.infer<Catalog[N]['schema']>;
export type EventOf<N extends EventName> = Envelope<EventData<N>> & { type: Catalog[N]['type'] };

export const eventNames = Object.keys(catalog) as EventName[];

export function deadLetterTopic(topic: string): string {
  return `${topic}-dead-letter`;
}

const byType = new Map<string, EventName>(eventNames.map((n) => [catalog[n].type, n]));

export function eventNameOfType(type: string): EventName | undefined {
  return byType.get(type);
}

/** Build a validated event. Throws ValidationError when `data` does not match the catalog. */
export function createEvent<N extends EventName>(name: N, data: z.input<Catalog[N]['schema']>, opts: EnvelopeOptions): EventOf<N> {
  const parsed = parseData(name, data);
  return makeEnvelope(catalog[name].type, parsed, opts) as EventOf<N>;
}

export function parseData<N extends EventName>(name: N, data: unknown): EventData<N> {
  const fast = fastData[name]?.(data);
  if (fast !== undefined) return fast as EventData<N>;
  const res = catalog[name].schema.safeParse(data);
  if (!res.success) {
    throw new ValidationError(`invalid ${catalog[name].type} data: ${z.prettifyError(res.error)}`, {
      hint: `send data matching the ${name} schema in shared/events/catalog.ts`,
      details: { issues: res.error.issues },
    });
  }
  return res.data as EventData<N>;
}

/** Parse any envelope, check its type is catalogued and its data valid. */
export function parseEvent(raw: unknown): { name: EventName; event: Envelope } {
  const fast = fastEnvelope(raw);
  if (fast) {
    const name = eventNameOfType(fast.type);
    if (name) {
      fast.data = parseData(name, fast.data);
      parsed.add(fast);
      return { name, event: fast };
    }
  }
  const env = envelopeSchema.safeParse(raw);
  if (!env.success) {
    throw new ValidationError(`not a ctloop event envelope: ${z.prettifyError(env.error)}`, {
      hint: 'publish {id, type, time, source, correlationId, causationId, data} (see shared/events/envelope.ts)',
    });
  }
  const name = eventNameOfType(env.data.type);
  if (!name) {
    throw new ValidationError(`unknown event type ${env.data.type}`, {
      hint: `use one of: ${eventNames.map((n) => catalog[n].type).join(', ')}`,
    });
  }
  const event = { ...env.data, data: parseData(name, env.data.data) } as Envelope;
  parsed.add(event);
  return { name, event };
}

/**
 * Envelopes returned by `parseEvent` (validated, and fixed points of the parse: parsing one again yields an equal
 * envelope). A consumer that narrows a bus-delivered event with `parseEventOf` then skips a second validation.
 */
const parsed = new WeakSet<object>();

/** Parse an envelope that must be of one particular event. */
export function parseEventOf<N extends EventName>(name: N, raw: unknown): EventOf<N> {
  if (typeof raw === 'object' && raw !== null && parsed.has(raw) && (raw as Envelope).type === catalog[name].type) return raw as EventOf<N>;
  const { name: got, event } = parseEvent(raw);
  if (got !== name) {
    throw new ValidationError(`expected ${catalog[name].type}, got ${event.type}`, {
      hint: `this consumer only handles ${catalog[name].type}; check the subscription's topic`,
    });
  }
  return event as EventOf<N>;
}
