import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { columnFamily, terraformGcRules } from '../adapters/online-store/bigtable/layout.js';
import { ValidationError } from '../errors.js';
import { deadLetterTopic } from '../events/catalog.js';
import type { FeatureRepo } from '../features/definitions.js';
import type { ColumnSchema } from '../ports/warehouse.js';
import type { FunctionSpec } from './functions.js';
import { needGrants, withoutImpliedRoles, type ActAs } from './iam.js';
import { messageFunctionRegistry, RECONCILE_MESSAGE, type MessageFunctionSpec } from './message-functions.js';
import { SCHEDULER_ATTRIBUTES } from './scheduler-message.js';
import type { SchedulePlan } from './schedules.js';
import { warehouseTables } from './tables.js';

/**
 * Derives the GCP topology from the code — event catalog, function registry, feature definitions, schedules — and
 * renders it as the Terraform inputs checked in under infra/generated/. Pure: no I/O, no cloud clients. Terraform
 * only iterates over these maps, so a topic, subscription, function, service account, role, scheduler job or table
 * exists in GCP exactly when the code declares it.
 */

export interface CatalogLike {
  type: string;
  topic: string;
  description: string;
  schema: z.ZodType;
}

export interface RetryDefaults {
  /** Pub/Sub allows 5..100. */
  maxDeliveryAttempts: number;
  minimumBackoffSeconds: number;
  maximumBackoffSeconds: number;
}

export interface TopologyInputs {
  catalog: Record<string, CatalogLike>;
  registry: FunctionSpec[];
  /** Functions fed by raw topics outside the catalog (shared/topology/message-functions.ts); default: that registry. */
  messageFunctions?: MessageFunctionSpec[];
  features: FeatureRepo;
  schedules: SchedulePlan;
  retry?: RetryDefaults;
}

export interface TopicInfra {
  dead_letter_topic: string;
  description: string;
  event_types: string[];
}

export interface FunctionInfra {
  /** Deployed Cloud Functions (and Cloud Run service) name. */
  deployed_name: string;
  description: string;
  /** Exported CloudEvent handler registered with functions-framework (`--target`). */
  entry_point: string;
  /** Compiled module inside the source archive that exports `entry_point`. */
  source_path: string;
  /** Catalog event name and type of the trigger; '' for a raw topic outside the catalog (message functions). */
  trigger_event: string;
  trigger_event_type: string;
  trigger_topic: string;
  /** Push subscription (trigger topic → this function), with dead-letter policy and retry backoff. */
  subscription: string;
  dead_letter_topic: string;
  max_delivery_attempts: number;
  minimum_backoff: string;
  maximum_backoff: string;
  /** Pub/Sub waits this long for the push response: the function timeout, capped at Pub/Sub's 600 s. */
  ack_deadline_seconds: number;
  publishes_topics: string[];
  service_account_id: string;
  project_roles: string[];
  dataset_roles: string[];
  artifact_bucket_roles: string[];
  /** Roles on the online store's Firestore database (granted only when Terraform's online_store is firestore). */
  firestore_roles: string[];
  /** Roles on the online store's Bigtable instance (granted only when Terraform's online_store is bigtable). */
  bigtable_roles: string[];
  act_as: ActAs[];
  /** Object prefix in the artifact bucket where the runtime records permanent failures (shared/runtime/dead-letter.ts). */
  dead_letter_prefix: string;
  timeout_seconds: number;
  memory: string;
  /** Requests one instance serves at once (max_instance_request_concurrency), from the registry's `scaling`. */
  concurrency: number;
  /** vCPU per instance (available_cpu). */
  cpu: string;
}

export interface SchedulerJobInfra {
  description: string;
  schedule: string;
  time_zone: string;
  topic: string;
  /** Catalog event name; '' for a raw message to a topic outside the catalog (the training reconciler). */
  event: string;
  /** The message body: the event's `data` as JSON (see shared/topology/scheduler-message.ts), or the raw message. */
  data_json: string;
  attributes: Record<string, string>;
}

export interface FeatureTableInfra {
  /** Feature view of the table ('' for system tables). */
  view: string;
  /** offline, quarantine, drift_history, training_requests. */
  kind: string;
  description: string;
  /** File name under infra/generated/bigquery-schemas/. */
  schema_file: string;
  /** Day-partitioning column, or null for unpartitioned tables (ledgers). */
  partition_field: string | null;
  clustering: string[];
}

/** What the online store needs per feature view (infra/modules/online_store). */
export interface OnlineViewInfra {
  /** Bigtable column family of the view (shared/adapters/online-store/bigtable/layout.ts). */
  column_family: string;
  /** The view's ttl; 0 = none. */
  ttl_seconds: number;
  /** google_bigtable_gc_policy.gc_rules: one version, and the ttl as max age. */
  gc_rules: string;
}

export interface Topology {
  topics: Record<string, TopicInfra>;
  functions: Record<string, FunctionInfra>;
  scheduler_jobs: Record<string, SchedulerJobInfra>;
  feature_tables: Record<string, FeatureTableInfra>;
  online_views: Record<string, OnlineViewInfra>;
}

export interface BigQueryField {
  name: string;
  type: string;
  mode: 'NULLABLE' | 'REQUIRED';
  description?: string;
}

export const DEFAULT_RETRY: RetryDefaults = { maxDeliveryAttempts: 5, minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 };

export const GENERATED_TFVARS = 'topology.auto.tfvars.json';
export const SCHEMA_DIR = 'bigquery-schemas';

const SA_ID = /^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$/;

/** Service account ids are 6-30 characters; long function names are shortened with a stable hash suffix. */
export function functionServiceAccountId(name: string): string {
  const full = `ctloop-fn-${name}`;
  if (full.length <= 30) return full;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 4);
  return `${full.slice(0, 25).replace(/-+$/, '')}-${hash}`;
}

export function functionDeployedName(name: string): string {
  return `ctloop-${name}`;
}

export function functionSourcePath(name: string): string {
  return `dist/functions/${name}/index.js`;
}

/** BigQuery schema JSON of a table's columns. */
export function bigQuerySchema(columns: ColumnSchema[]): BigQueryField[] {
  return columns.map((c) => ({
    name: c.name,
    type: c.type,
    mode: c.mode ?? 'NULLABLE',
    ...(c.description ? { description: c.description } : {}),
  }));
}

function fail(message: string, hint: string): never {
  throw new ValidationError(message, { hint });
}

function sorted<T>(entries: [string, T][]): Record<string, T> {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const uniqueSorted = (xs: string[]): string[] => [...new Set(xs)].sort();

function buildTopics(catalog: Record<string, CatalogLike>): Record<string, TopicInfra> {
  const byTopic = new Map<string, { types: string[]; descriptions: string[] }>();
  for (const e of Object.values(catalog)) {
    const t = byTopic.get(e.topic) ?? { types: [], descriptions: [] };
    t.types.push(e.type);
    t.descriptions.push(e.description);
    byTopic.set(e.topic, t);
  }
  return sorted(
    [...byTopic].map(([topic, t]): [string, TopicInfra] => [
      topic,
      { dead_letter_topic: deadLetterTopic(topic), description: t.descriptions.join(' '), event_types: uniqueSorted(t.types) },
    ]),
  );
}

function buildFunction(f: FunctionSpec, catalog: Record<string, CatalogLike>, retry: RetryDefaults): FunctionInfra {
  const trigger = catalog[f.trigger];
  if (!trigger) fail(`function ${f.name} is triggered by "${f.trigger}", which is not in the event catalog`, 'add the event to shared/events/catalog.ts or fix the trigger');
  return functionInfra(f, { source: f.name, event: f.trigger, type: trigger.type, topic: trigger.topic }, catalog, retry);
}

/** A second entry point of a function folder, fed by a raw topic (shared/topology/message-functions.ts). */
function buildMessageFunction(m: MessageFunctionSpec, registry: FunctionSpec[], catalog: Record<string, CatalogLike>, retry: RetryDefaults): FunctionInfra {
  if (!registry.some((f) => f.name === m.source)) {
    fail(`message function ${m.name} runs the source of "${m.source}", which is not a registered function`, 'set source to a folder of shared/topology/functions.ts');
  }
  if (Object.values(catalog).some((e) => e.topic === m.topic)) {
    fail(`message function ${m.name} is fed by ${m.topic}, a catalog topic`, 'catalog topics carry envelopes: register the function in shared/topology/functions.ts instead');
  }
  return functionInfra(m, { source: m.source, event: '', type: '', topic: m.topic }, catalog, retry);
}

function functionInfra(
  f: Omit<FunctionSpec, 'trigger'>, trigger: { source: string; event: string; type: string; topic: string }, catalog: Record<string, CatalogLike>, retry: RetryDefaults,
): FunctionInfra {
  if (!/^[a-z][a-z0-9-]{0,50}[a-z0-9]$/.test(f.name)) {
    fail(`function name "${f.name}" is not a valid Cloud Functions name`, 'use lower-case letters, digits and -, at most 52 characters (shared/topology/functions.ts)');
  }
  const publishes = f.publishes.map((p) => {
    const e = catalog[p];
    if (!e) fail(`function ${f.name} publishes "${p}", which is not in the event catalog`, 'add the event to shared/events/catalog.ts or fix publishes');
    return e.topic;
  });
  const grants = f.needs.map((n) => needGrants[n]);
  const roles = (scope: string) => withoutImpliedRoles(uniqueSorted(grants.flatMap((g) => g.grants.filter((x) => x.scope === scope).map((x) => x.role))));
  const serviceAccountId = functionServiceAccountId(f.name);
  if (!SA_ID.test(serviceAccountId)) fail(`service account id ${serviceAccountId} is invalid`, 'rename the function');
  if (f.timeoutSeconds < 1 || f.timeoutSeconds > 540) fail(`function ${f.name} timeout ${f.timeoutSeconds}s is outside 1..540`, 'event functions allow at most 540 s');
  const scaling = checkScaling(f);
  return {
    deployed_name: functionDeployedName(f.name),
    description: f.description,
    entry_point: f.entryPoint,
    source_path: functionSourcePath(trigger.source),
    trigger_event: trigger.event,
    trigger_event_type: trigger.type,
    trigger_topic: trigger.topic,
    subscription: `${functionDeployedName(f.name)}-push`,
    dead_letter_topic: deadLetterTopic(trigger.topic),
    max_delivery_attempts: retry.maxDeliveryAttempts,
    minimum_backoff: `${retry.minimumBackoffSeconds}s`,
    maximum_backoff: `${retry.maximumBackoffSeconds}s`,
    ack_deadline_seconds: Math.min(600, Math.max(10, f.timeoutSeconds)),
    publishes_topics: uniqueSorted(publishes),
    service_account_id: serviceAccountId,
    project_roles: roles('project'),
    dataset_roles: roles('dataset'),
    artifact_bucket_roles: roles('artifact_bucket'),
    firestore_roles: roles('firestore_database'),
    bigtable_roles: roles('bigtable_instance'),
    act_as: uniqueSorted(grants.flatMap((g) => g.actAs)) as ActAs[],
    dead_letter_prefix: `dead-letter/${f.name}/`,
    timeout_seconds: f.timeoutSeconds,
    memory: f.memory,
    concurrency: scaling.concurrency,
    cpu: scaling.cpu,
  };
}

/** Cloud Functions gen2 default vCPU per memory size (cloud.google.com/functions/docs/configuring/memory). */
const DEFAULT_CPU: Record<FunctionSpec['memory'], string> = { '256Mi': '0.167', '512Mi': '0.333', '1Gi': '0.583', '2Gi': '1', '4Gi': '2' };

/** Gen2 rules: concurrency 1..1000, and above 1 at least 1 vCPU (cloud.google.com/functions/docs/configuring/concurrency). */
function checkScaling(f: Omit<FunctionSpec, 'trigger'>): { concurrency: number; cpu: string } {
  // Without `scaling`: one request per instance and gen2's default vCPU for the memory size.
  const s = f.scaling ?? { concurrency: 1, cpu: DEFAULT_CPU[f.memory] };
  if (!Number.isInteger(s.concurrency) || s.concurrency < 1 || s.concurrency > 1000) {
    fail(`function ${f.name} concurrency ${s.concurrency} is outside 1..1000`, 'Cloud Functions gen2 serve 1..1000 requests per instance');
  }
  const cpu = Number(s.cpu);
  if (!Number.isFinite(cpu) || cpu <= 0) fail(`function ${f.name} cpu ${JSON.stringify(s.cpu)} is not a number of vCPUs`, 'e.g. "1" or "2"');
  if (s.concurrency > 1 && cpu < 1) fail(`function ${f.name} serves ${s.concurrency} requests at once with ${s.cpu} vCPU; concurrency above 1 needs at least 1 vCPU`, 'set scaling.cpu to "1" or more');
  return { concurrency: s.concurrency, cpu: s.cpu };
}

function jobName(...parts: string[]): string {
  const name = ['ctloop', ...parts].join('-').replace(/_/g, '-').toLowerCase();
  if (!/^[a-z][a-z0-9-]{0,499}$/.test(name)) fail(`scheduler job name ${name} is invalid`, 'use identifiers for views and models');
  return name;
}

function schedulerJob(
  catalog: Record<string, CatalogLike>,
  event: string,
  name: string,
  description: string,
  schedule: string,
  timeZone: string,
  data: Record<string, unknown>,
  extraAttributes: Record<string, string> = {},
): [string, SchedulerJobInfra] {
  const e = catalog[event];
  if (!e) fail(`scheduler job ${name} sends "${event}", which is not in the event catalog`, 'fix shared/topology/generate.ts');
  const parsed = e.schema.safeParse(data);
  if (!parsed.success) fail(`scheduler job ${name} would send invalid ${e.type} data: ${parsed.error.message}`, 'fix infra/schedules.json');
  return [
    name,
    {
      description,
      schedule,
      time_zone: timeZone,
      topic: e.topic,
      event,
      data_json: JSON.stringify(data),
      attributes: {
        [SCHEDULER_ATTRIBUTES.body]: 'data',
        [SCHEDULER_ATTRIBUTES.source]: `cloud-scheduler/${name}`,
        [SCHEDULER_ATTRIBUTES.type]: e.type,
        ...extraAttributes,
      },
    },
  ];
}

function buildSchedulerJobs(inputs: TopologyInputs): Record<string, SchedulerJobInfra> {
  const { catalog, features, schedules } = inputs;
  const views = new Set(features.views.map((v) => v.name));
  for (const v of Object.keys(schedules.driftChecks.views)) {
    if (!views.has(v)) fail(`schedules: drift check override for unknown feature view "${v}"`, `defined views: ${[...views].join(', ')}`);
  }
  const jobs: [string, SchedulerJobInfra][] = [];
  for (const v of features.views) {
    const o = schedules.driftChecks.views[v.name];
    if (o && !o.enabled) continue;
    const d = schedules.driftChecks.defaults;
    const preset = o?.preset ?? d.preset;
    const data = { view: v.name, ...(o?.model ? { model: o.model } : {}), windowSeconds: o?.windowSeconds ?? d.windowSeconds, ...(preset ? { preset } : {}) };
    const name = jobName('drift-check', v.name);
    jobs.push(schedulerJob(catalog, 'driftCheckRequested', name, `Drift check of feature view ${v.name} over the trailing window`, o?.schedule ?? d.schedule, schedules.timeZone, data));
  }
  // Compaction of yesterday's partition: one job per offline table and one for the quarantine (the streaming path
  // appends at-least-once; see shared/features/compact.ts).
  const c = schedules.compaction;
  if (c.enabled) {
    for (const v of features.views) {
      jobs.push(schedulerJob(catalog, 'featureCompactionRequested', jobName('compact', v.name), `Compact yesterday's partition of feature view ${v.name}`, c.schedule, schedules.timeZone, { view: v.name }));
    }
    jobs.push(schedulerJob(catalog, 'featureCompactionRequested', jobName('compact', 'quarantine'), "Compact yesterday's partition of the quarantine", c.schedule, schedules.timeZone, { quarantine: true }));
  }
  const models = new Set<string>();
  for (const r of schedules.retraining) {
    if (models.has(r.model)) fail(`schedules: model ${r.model} has two retraining schedules`, 'keep one per model');
    models.add(r.model);
    const data = { model: r.model, reason: 'schedule', dedupKey: `schedule:${r.model}` };
    const name = jobName('retrain', r.model);
    jobs.push(
      schedulerJob(catalog, 'trainingRequested', name, `Scheduled retraining of model ${r.model}`, r.schedule, schedules.timeZone, data, {
        [SCHEDULER_ATTRIBUTES.dedupPerRun]: 'true',
        ...(r.windowSeconds ? { 'ctloop-training-window-seconds': String(r.windowSeconds) } : {}),
      }),
    );
  }
  const reconciler = schedules.trainingReconciler;
  if (reconciler.enabled) {
    const consumer = (inputs.messageFunctions ?? messageFunctionRegistry).find((m) => m.entryPoint === 'completeTraining');
    if (!consumer) fail('schedules: the training reconciler is enabled but no function consumes its topic', 'register complete-training in shared/topology/message-functions.ts, or set trainingReconciler.enabled to false');
    const name = jobName('reconcile-training');
    jobs.push([
      name,
      {
        description: 'Training reconciler: complete every unfinished run whose job ended, expire those past their deadline',
        schedule: reconciler.schedule,
        time_zone: schedules.timeZone,
        topic: consumer.topic,
        event: '',
        data_json: JSON.stringify(RECONCILE_MESSAGE),
        attributes: { [SCHEDULER_ATTRIBUTES.source]: `cloud-scheduler/${name}` },
      },
    ]);
  }
  if (schedules.deploymentChecks.enabled) {
    jobs.push(schedulerJob(catalog, 'deploymentCheckRequested', jobName('deployment-checks'), 'Advance active rollouts: resume endpoint operations, end canary periods',
      schedules.deploymentChecks.schedule, schedules.timeZone, {}));
  }
  return sorted(jobs);
}

function buildFeatureTables(features: FeatureRepo): { tables: Record<string, FeatureTableInfra>; schemas: Record<string, BigQueryField[]> } {
  const tables: [string, FeatureTableInfra][] = [];
  const schemas: Record<string, BigQueryField[]> = {};
  for (const t of warehouseTables(features)) {
    tables.push([
      t.name,
      {
        view: features.views.find((v) => v.table === t.name)?.name ?? '',
        kind: t.labels?.ctloop_kind ?? 'system',
        description: t.description ?? t.name,
        schema_file: `${t.name}.json`,
        partition_field: t.partitionBy ?? null,
        clustering: t.clusterBy ?? [],
      },
    ]);
    schemas[`${t.name}.json`] = bigQuerySchema(t.columns);
  }
  return { tables: sorted(tables), schemas };
}

function buildOnlineViews(features: FeatureRepo): Record<string, OnlineViewInfra> {
  return sorted(features.views.map((v): [string, OnlineViewInfra] => [v.name, { column_family: columnFamily(v), ttl_seconds: v.ttlSeconds, gc_rules: terraformGcRules(v) }]));
}

export function buildTopology(inputs: TopologyInputs): { topology: Topology; schemas: Record<string, BigQueryField[]> } {
  const retry = inputs.retry ?? DEFAULT_RETRY;
  if (retry.maxDeliveryAttempts < 5 || retry.maxDeliveryAttempts > 100) fail('maxDeliveryAttempts must be 5..100', 'Pub/Sub dead-letter policies allow 5..100 attempts');
  const names = new Set<string>();
  const unique = (name: string) => {
    if (names.has(name)) fail(`function ${name} is registered twice`, 'names in shared/topology/functions.ts and message-functions.ts must be unique');
    names.add(name);
  };
  const functions: [string, FunctionInfra][] = [
    ...inputs.registry.map((f): [string, FunctionInfra] => {
      unique(f.name);
      return [f.name, buildFunction(f, inputs.catalog, retry)];
    }),
    ...(inputs.messageFunctions ?? messageFunctionRegistry).map((m): [string, FunctionInfra] => {
      unique(m.name);
      return [m.name, buildMessageFunction(m, inputs.registry, inputs.catalog, retry)];
    }),
  ];
  const accounts = new Set<string>();
  for (const [, f] of functions) {
    if (accounts.has(f.service_account_id)) fail(`two functions share service account ${f.service_account_id}`, 'rename one function');
    accounts.add(f.service_account_id);
  }
  const { tables, schemas } = buildFeatureTables(inputs.features);
  return {
    topology: {
      topics: buildTopics(inputs.catalog),
      functions: sorted(functions),
      scheduler_jobs: buildSchedulerJobs(inputs),
      feature_tables: tables,
      online_views: buildOnlineViews(inputs.features),
    },
    schemas,
  };
}

/** The checked-in files, by path relative to infra/generated/. Deterministic: same inputs, same bytes. */
export function renderTopologyFiles(inputs: TopologyInputs): Record<string, string> {
  const { topology, schemas } = buildTopology(inputs);
  const files: Record<string, string> = {
    [GENERATED_TFVARS]: `${JSON.stringify({ '//': 'Generated by `ctloop infra gen` from the event catalog, function registry, feature definitions and infra/schedules.json. Do not edit.', ...topology }, null, 2)}\n`,
  };
  for (const [file, fields] of Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : 1))) {
    files[`${SCHEMA_DIR}/${file}`] = `${JSON.stringify(fields, null, 2)}\n`;
  }
  return files;
}
