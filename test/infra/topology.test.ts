import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalog, deadLetterTopic, eventNames } from '../../shared/events/catalog.js';
import { offlineColumns, type FeatureRepo } from '../../shared/features/definitions.js';
import { functionRegistry, type FunctionSpec } from '../../shared/topology/functions.js';
import { messageFunctionRegistry, RAW_TOPICS, RECONCILE_MESSAGE } from '../../shared/topology/message-functions.js';
import { bigQuerySchema, buildTopology, renderTopologyFiles, type Topology, type TopologyInputs } from '../../shared/topology/generate.js';
import { isPrimitiveRole, needGrants, withoutImpliedRoles } from '../../shared/topology/iam.js';
import { clientGcRule, columnFamily, goDuration } from '../../shared/adapters/online-store/bigtable/layout.js';
import { envelopeFromDataOnlyMessage } from '../../shared/topology/scheduler-message.js';
import { loadSchedulePlan, parseSchedulePlan } from '../../shared/topology/schedules.js';
import { staleFiles } from '../../shared/topology/stale.js';
import { readGenerated } from '../../shared/topology/files.js';
import { blocksIn, GENERATED, loadFeatures, MODULES, SCHEDULES } from './helpers.js';

let features: FeatureRepo;
let inputs: TopologyInputs;
let topology: Topology;
/** What is checked in: the generated tfvars Terraform actually applies. */
let checkedIn: Topology;

beforeAll(async () => {
  features = await loadFeatures();
  inputs = { catalog, registry: functionRegistry, features, schedules: await loadSchedulePlan(SCHEDULES) };
  topology = buildTopology(inputs).topology;
  checkedIn = JSON.parse(readFileSync(join(GENERATED, 'topology.auto.tfvars.json'), 'utf8')) as Topology;
});

describe('topics', () => {
  it('every catalogued event has a topic (in the checked-in topology) with its dead-letter topic', () => {
    for (const name of eventNames) {
      const e = catalog[name];
      const t = checkedIn.topics[e.topic];
      expect(t, `${name} (${e.topic}) has no topic in infra/generated/topology.auto.tfvars.json`).toBeDefined();
      expect(t!.event_types).toContain(e.type);
      expect(t!.dead_letter_topic).toBe(deadLetterTopic(e.topic));
    }
  });

  it('no topic is infrastructure for an event that is no longer catalogued', () => {
    const topics = new Set(eventNames.map((n) => catalog[n].topic));
    for (const t of Object.keys(checkedIn.topics)) expect(topics.has(t), `${t} is not used by any catalogued event`).toBe(true);
  });
});

describe('functions', () => {
  it('every registered function has infrastructure in the checked-in topology', () => {
    for (const f of [...functionRegistry, ...messageFunctionRegistry]) expect(checkedIn.functions[f.name], `${f.name} has no infrastructure`).toBeDefined();
    expect(Object.keys(checkedIn.functions).sort()).toEqual([...functionRegistry, ...messageFunctionRegistry].map((f) => f.name).sort());
  });

  it("every function's trigger names an existing topic carrying that event", () => {
    const raw = new Set(messageFunctionRegistry.map((m) => m.name));
    for (const [name, f] of Object.entries(checkedIn.functions)) {
      for (const p of f.publishes_topics) expect(checkedIn.topics[p], `${name} publishes to missing topic ${p}`).toBeDefined();
      if (raw.has(name)) continue; // raw topics: see 'message functions' below
      expect(checkedIn.topics[f.trigger_topic], `${name} triggers on missing topic ${f.trigger_topic}`).toBeDefined();
      expect(checkedIn.topics[f.trigger_topic]!.event_types).toContain(f.trigger_event_type);
      for (const p of f.publishes_topics) expect(checkedIn.topics[p], `${name} publishes to missing topic ${p}`).toBeDefined();
    }
  });

  it('every subscription has a dead-letter topic that exists and a bounded number of attempts', () => {
    const deadLetters = new Set([...Object.values(checkedIn.topics).map((t) => t.dead_letter_topic), `${RAW_TOPICS.vertexJobState}-dead-letter`]);
    for (const [name, f] of Object.entries(checkedIn.functions)) {
      expect(f.subscription, name).toMatch(/^[a-zA-Z][\w.~+%-]{2,254}$/);
      expect(deadLetters.has(f.dead_letter_topic), `${name}: dead-letter topic ${f.dead_letter_topic} is not created`).toBe(true);
      expect(f.dead_letter_topic).toBe(deadLetterTopic(f.trigger_topic));
      expect(f.max_delivery_attempts).toBeGreaterThanOrEqual(5);
      expect(f.max_delivery_attempts).toBeLessThanOrEqual(100);
      expect(f.minimum_backoff).toMatch(/^\d+s$/);
      expect(f.maximum_backoff).toMatch(/^\d+s$/);
      expect(f.ack_deadline_seconds).toBeGreaterThanOrEqual(Math.min(600, f.timeout_seconds));
    }
    const subs = Object.values(checkedIn.functions).map((f) => f.subscription);
    expect(new Set(subs).size).toBe(subs.length);
  });

  it('every function has its own valid service account', () => {
    const ids = Object.values(checkedIn.functions).map((f) => f.service_account_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
    // Reserved identities of the platform module must not collide with a function's account.
    for (const reserved of ['ctloop-fn-build', 'ctloop-pubsub-push', 'ctloop-trainer', 'ctloop-server']) expect(ids).not.toContain(reserved);
  });

  it('roles are exactly those derived from the registry needs, never primitive', () => {
    for (const spec of [...functionRegistry, ...messageFunctionRegistry]) {
      const f = checkedIn.functions[spec.name]!;
      // Derived from the needs, minus roles another granted role already includes (objectAdmin ⊃ objectViewer, …).
      const want = (scope: string) => withoutImpliedRoles([...new Set(spec.needs.flatMap((n) => needGrants[n].grants.filter((g) => g.scope === scope).map((g) => g.role)))].sort());
      expect(f.project_roles, spec.name).toEqual(want('project'));
      expect(f.dataset_roles, spec.name).toEqual(want('dataset'));
      expect(f.artifact_bucket_roles, spec.name).toEqual(want('artifact_bucket'));
      expect(f.firestore_roles, spec.name).toEqual(want('firestore_database'));
      expect(f.bigtable_roles, spec.name).toEqual(want('bigtable_instance'));
      for (const r of [...f.project_roles, ...f.dataset_roles, ...f.artifact_bucket_roles, ...f.firestore_roles, ...f.bigtable_roles]) expect(isPrimitiveRole(r), `${spec.name}: ${r}`).toBe(false);
    }
    for (const g of Object.values(needGrants)) for (const r of g.grants) expect(isPrimitiveRole(r.role)).toBe(false);
    expect(withoutImpliedRoles(['roles/storage.objectAdmin', 'roles/storage.objectViewer'])).toEqual(['roles/storage.objectAdmin']);
    expect(withoutImpliedRoles(['roles/bigquery.dataViewer'])).toEqual(['roles/bigquery.dataViewer']);
  });

  it('deploys the compiled module of functions/<name>/index.ts with the registry entry point', () => {
    for (const spec of functionRegistry) {
      const f = checkedIn.functions[spec.name]!;
      expect(f.source_path).toBe(`dist/functions/${spec.name}/index.js`);
      expect(f.entry_point).toBe(spec.entryPoint);
      expect(f.deployed_name).toBe(`ctloop-${spec.name}`);
      expect(f.timeout_seconds).toBe(spec.timeoutSeconds);
      expect(f.memory).toBe(spec.memory);
      expect(f.dead_letter_prefix).toBe(`dead-letter/${spec.name}/`);
    }
  });

  // Cloud Functions gen2 serve one request per instance unless max_instance_request_concurrency is set; a
  // concurrency above 1 needs at least 1 vCPU (https://cloud.google.com/functions/docs/configuring/concurrency).
  it('sets request concurrency and CPU per function from the registry, each with a stated reason', () => {
    for (const spec of [...functionRegistry, ...messageFunctionRegistry]) {
      const f = checkedIn.functions[spec.name]!;
      expect(spec.scaling, `${spec.name}: scaling`).toBeDefined();
      expect(spec.scaling!.reason.length, `${spec.name}: scaling reason`).toBeGreaterThan(20);
      expect(f.concurrency).toBe(spec.scaling!.concurrency);
      expect(f.cpu).toBe(spec.scaling!.cpu);
      if (f.concurrency > 1) expect(Number(f.cpu), `${spec.name}: concurrency > 1 needs >= 1 vCPU`).toBeGreaterThanOrEqual(1);
    }
    // The group commit (shared/features/group-commit.ts) only groups events that one instance handles at once.
    expect(checkedIn.functions['ingest-features']!.concurrency).toBeGreaterThan(1);
  });

  it('refuses a concurrency above 1 with less than one vCPU, or outside 1..1000', () => {
    const bad = (scaling: FunctionSpec['scaling']) =>
      () => buildTopology({ ...inputs, registry: functionRegistry.map((f) => (f.name === 'ingest-features' ? { ...f, scaling } : f)) });
    expect(bad({ concurrency: 8, cpu: '0.5', reason: 'test: too little CPU for concurrency' })).toThrow(/at least 1 vCPU/);
    expect(bad({ concurrency: 1001, cpu: '2', reason: 'test: above the gen2 maximum of 1000' })).toThrow(/1\.\.1000/);
  });
});

describe('message functions (raw topics outside the catalog)', () => {
  it('complete-training is the launch-training source with the completeTraining entry point, fed by the Vertex AI job-state topic', () => {
    const f = checkedIn.functions['complete-training']!;
    expect(f).toMatchObject({
      deployed_name: 'ctloop-complete-training', entry_point: 'completeTraining', source_path: 'dist/functions/launch-training/index.js',
      trigger_event: '', trigger_event_type: '', trigger_topic: RAW_TOPICS.vertexJobState, subscription: 'ctloop-complete-training-push',
      dead_letter_topic: `${RAW_TOPICS.vertexJobState}-dead-letter`, publishes_topics: [catalog.trainingCompleted.topic], act_as: [],
    });
    // Reads jobs (getCustomJob), never starts one: viewer, not user, and no actAs on the trainer.
    expect(f.project_roles).toEqual(['roles/aiplatform.viewer', 'roles/bigquery.jobUser']);
    expect(f.dataset_roles).toEqual(['roles/bigquery.dataEditor']);
    expect(f.artifact_bucket_roles).toEqual(['roles/storage.objectAdmin']);
    expect(readFileSync(join(GENERATED, '../../functions/launch-training/index.ts'), 'utf8')).toMatch(/ff\.cloudEvent\('completeTraining'/);
  });

  it('the raw topic is the one the vertex_ai module creates (its job_state_topic default), and is no catalog topic', async () => {
    const vars = await blocksIn(join(MODULES, 'vertex_ai'), 'variable');
    expect(vars.job_state_topic[0].default).toBe(RAW_TOPICS.vertexJobState);
    expect(Object.keys(checkedIn.topics)).not.toContain(RAW_TOPICS.vertexJobState);
  });

  it('a message function must run a registered source and may not take a catalog topic', () => {
    const m = messageFunctionRegistry[0]!;
    expect(() => buildTopology({ ...inputs, messageFunctions: [{ ...m, source: 'nope' }] })).toThrow(/not a registered function/);
    expect(() => buildTopology({ ...inputs, messageFunctions: [{ ...m, topic: catalog.trainingCompleted.topic as typeof m.topic }] })).toThrow(/a catalog topic/);
    expect(() => buildTopology({ ...inputs, messageFunctions: [{ ...m, name: 'launch-training' }] })).toThrow(/registered twice/);
  });
});

describe('online store', () => {
  const ONLINE_ROLES = /^roles\/(datastore|bigtable)\./;

  it('the functions that write the online store get data access on it, the others nothing', () => {
    const writers = functionRegistry.filter((f) => f.needs.includes('online.write')).map((f) => f.name).sort();
    expect(writers).toEqual(expect.arrayContaining(['ingest-features', 'load-feature-file']));
    for (const spec of functionRegistry) {
      const f = checkedIn.functions[spec.name]!;
      const writes = spec.needs.includes('online.write');
      const reads = spec.needs.includes('online.read');
      expect(f.firestore_roles, spec.name).toEqual(writes ? ['roles/datastore.user'] : reads ? ['roles/datastore.viewer'] : []);
      expect(f.bigtable_roles, spec.name).toEqual(writes ? ['roles/bigtable.user'] : reads ? ['roles/bigtable.reader'] : []);
      // Never on the project unconditioned, never in another scope.
      for (const r of [...f.project_roles, ...f.dataset_roles, ...f.artifact_bucket_roles]) expect(r, spec.name).not.toMatch(ONLINE_ROLES);
    }
  });

  it('no function gets an admin or owner role on the store (Terraform creates the database, table and families)', () => {
    for (const g of Object.values(needGrants)) {
      for (const r of g.grants.filter((x) => x.scope === 'firestore_database' || x.scope === 'bigtable_instance')) {
        expect(['roles/datastore.user', 'roles/datastore.viewer', 'roles/bigtable.user', 'roles/bigtable.reader']).toContain(r.role);
      }
    }
    for (const f of Object.values(checkedIn.functions)) {
      for (const r of [...f.firestore_roles, ...f.bigtable_roles]) expect(r).not.toMatch(/admin|owner|indexAdmin|importExport/i);
    }
    expect(withoutImpliedRoles(['roles/bigtable.reader', 'roles/bigtable.user'])).toEqual(['roles/bigtable.user']);
    expect(withoutImpliedRoles(['roles/datastore.user', 'roles/datastore.viewer'])).toEqual(['roles/datastore.user']);
  });

  it('every feature view has a Bigtable column family with the GC rule the adapter creates (one version, ttl as max age)', () => {
    expect(Object.keys(checkedIn.online_views).sort()).toEqual(features.views.map((v) => v.name).sort());
    for (const v of features.views) {
      const o = checkedIn.online_views[v.name]!;
      expect(o.column_family).toBe(columnFamily(v));
      expect(o.ttl_seconds).toBe(v.ttlSeconds);
      const rule = JSON.parse(o.gc_rules) as { mode?: string; rules: Record<string, unknown>[] };
      expect(rule.rules).toContainEqual({ max_version: 1 });
      const client = clientGcRule(v);
      if (v.ttlSeconds > 0) {
        expect(rule.mode).toBe('union');
        expect(client).toEqual({ versions: 1, age: { seconds: v.ttlSeconds }, union: true });
        expect(rule.rules).toContainEqual({ max_age: goDuration(v.ttlSeconds) });
      } else {
        expect(rule.rules).toEqual([{ max_version: 1 }]);
        expect(client).toEqual({ versions: 1 });
      }
    }
    const families = Object.values(checkedIn.online_views).map((o) => o.column_family);
    expect(new Set(families).size).toBe(families.length);
  });

  it('ttl durations are written as Go prints them (no drift after apply)', () => {
    expect([30, 90, 3600, 86_400, 172_800, 604_800, 3_661].map(goDuration)).toEqual(['30s', '1m30s', '1h0m0s', '24h0m0s', '48h0m0s', '168h0m0s', '1h1m1s']);
  });
});

describe('registry and functions/ agree', () => {
  it('every registered function has functions/<name>/index.ts exporting its entry point, and every folder is registered', async () => {
    const { existsSync, readdirSync, statSync } = await import('node:fs');
    const dir = join(GENERATED, '../../functions');
    const folders = readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory()).sort();
    expect(folders).toEqual(functionRegistry.map((f) => f.name).sort());
    for (const f of functionRegistry) {
      const index = join(dir, f.name, 'index.ts');
      expect(existsSync(index), `functions/${f.name}/index.ts`).toBe(true);
      expect(readFileSync(index, 'utf8'), `functions/${f.name}/index.ts registers ${f.entryPoint}`).toMatch(/cloudEvent\(/);
    }
  });
});

describe('a function or event added in code without infrastructure fails', () => {
  const extra: FunctionSpec = {
    name: 'detect-drift-extra',
    entryPoint: 'detectDriftExtra',
    trigger: 'driftCheckRequested',
    publishes: ['driftReported', 'alertRaised'],
    needs: ['bigquery.read', 'bigquery.jobs', 'storage.write'],
    description: 'test-only extra function',
    timeoutSeconds: 300,
    memory: '1Gi',
  };

  it('an extra registry entry makes the checked-in files stale and has no infrastructure', async () => {
    const files = renderTopologyFiles({ ...inputs, registry: [...functionRegistry, extra] });
    const stale = staleFiles(files, await readGenerated(GENERATED));
    expect(stale).toContain('topology.auto.tfvars.json: out of date');
    expect(checkedIn.functions[extra.name]).toBeUndefined();
    const generated = JSON.parse(files['topology.auto.tfvars.json']!) as Topology;
    const f = generated.functions[extra.name]!;
    expect(f.trigger_topic).toBe(catalog.driftCheckRequested.topic);
    expect(f.publishes_topics).toEqual([catalog.alertRaised.topic, catalog.driftReported.topic]);
    expect(f.dataset_roles).toEqual(['roles/bigquery.dataViewer']);
    expect(f.artifact_bucket_roles).toEqual(['roles/storage.objectAdmin']);
    expect(f.project_roles).toEqual(['roles/bigquery.jobUser']);
  });

  it('an extra catalogued event makes the checked-in files stale', async () => {
    const withEvent = { ...catalog, extraEvent: { ...catalog.alertRaised, type: 'ctloop.extra.v1', topic: 'ctloop-extra' } };
    const files = renderTopologyFiles({ ...inputs, catalog: withEvent });
    expect(staleFiles(files, await readGenerated(GENERATED))).toContain('topology.auto.tfvars.json: out of date');
    expect((JSON.parse(files['topology.auto.tfvars.json']!) as Topology).topics['ctloop-extra']!.dead_letter_topic).toBe('ctloop-extra-dead-letter');
  });

  it('a new feature view makes the schemas stale', async () => {
    const raw = { entities: features.entities, featureViews: [{ name: 'extra_view', entity: features.entities[0]!.name, features: [{ name: 'x', type: 'FLOAT64' }] }] };
    const { parseFeatureRepo } = await import('../../shared/features/definitions.js');
    // The checked-in schedule plan names this repo's views; the repo here has only the new one.
    const files = renderTopologyFiles({ ...inputs, features: parseFeatureRepo(raw), schedules: parseSchedulePlan({}) });
    const stale = staleFiles(files, await readGenerated(GENERATED));
    expect(stale).toContain('bigquery-schemas/fv_extra_view.json: missing');
  });

  it('a trigger or publish outside the catalog is refused', () => {
    const bad = { ...extra, trigger: 'nope' as FunctionSpec['trigger'] };
    expect(() => buildTopology({ ...inputs, registry: [bad] })).toThrow(/not in the event catalog/);
    const badPub = { ...extra, publishes: ['nope' as FunctionSpec['trigger']] };
    expect(() => buildTopology({ ...inputs, registry: [badPub] })).toThrow(/publishes "nope"/);
    expect(() => buildTopology({ ...inputs, registry: [extra, extra] })).toThrow(/registered twice/);
  });

  it('long function names still get a valid, distinct service account id', () => {
    const a = { ...extra, name: 'reconcile-vertex-training-job-state' };
    const b = { ...extra, name: 'reconcile-vertex-training-job-states' };
    const t = buildTopology({ ...inputs, registry: [a, b], messageFunctions: [], schedules: parseSchedulePlan({ trainingReconciler: { enabled: false } }) }).topology;
    const ids = [t.functions[a.name]!.service_account_id, t.functions[b.name]!.service_account_id];
    for (const id of ids) expect(id).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
    expect(ids[0]).not.toBe(ids[1]);
  });
});

describe('scheduler jobs', () => {
  it('every feature view has a drift check (unless disabled)', () => {
    for (const v of features.views) {
      const disabled = inputs.schedules.driftChecks.views[v.name]?.enabled === false;
      const job = Object.values(checkedIn.scheduler_jobs).find((j) => j.event === 'driftCheckRequested' && (JSON.parse(j.data_json) as { view: string }).view === v.name);
      expect(Boolean(job), `drift check for ${v.name}`).toBe(!disabled);
    }
  });

  it("every job's message parses with the event's zod schema and becomes a valid envelope", () => {
    expect(Object.keys(checkedIn.scheduler_jobs).length).toBeGreaterThan(0);
    for (const [name, job] of Object.entries(checkedIn.scheduler_jobs)) {
      if (job.event === '') continue; // the raw reconcile message: below
      const e = catalog[job.event as keyof typeof catalog];
      expect(e, `${name}: unknown event ${job.event}`).toBeDefined();
      expect(job.topic).toBe(e.topic);
      expect(checkedIn.topics[job.topic], `${name}: topic ${job.topic} is not created`).toBeDefined();
      const data: unknown = JSON.parse(job.data_json);
      const parsed = e.schema.safeParse(data);
      expect(parsed.success, `${name}: ${parsed.success ? '' : parsed.error.message}`).toBe(true);
      expect(job.attributes.type).toBe(e.type);
      const env = envelopeFromDataOnlyMessage({ body: data, attributes: job.attributes, messageId: '123', publishTime: '2026-01-02T06:00:01.5Z' });
      expect(env.type).toBe(e.type);
      expect(env.id).toBe('123');
      expect(env.time).toBe('2026-01-02T06:00:01.500Z');
      expect(env.source).toBe(`cloud-scheduler/${name}`);
    }
  });

  it('scheduled retraining gets a per-run dedup key and a valid training request', () => {
    const schedules = parseSchedulePlan({ retraining: [{ model: 'flight_delay', schedule: '0 3 * * 1' }], driftChecks: { views: { [features.views[0]!.name]: { enabled: false } } } });
    const t = buildTopology({ ...inputs, schedules }).topology;
    const job = t.scheduler_jobs['ctloop-retrain-flight-delay']!;
    expect(catalog.trainingRequested.schema.safeParse(JSON.parse(job.data_json)).success).toBe(true);
    const env1 = envelopeFromDataOnlyMessage({ body: JSON.parse(job.data_json), attributes: job.attributes, messageId: 'a', publishTime: '2026-01-05T03:00:00Z' });
    const env2 = envelopeFromDataOnlyMessage({ body: JSON.parse(job.data_json), attributes: job.attributes, messageId: 'b', publishTime: '2026-01-12T03:00:00Z' });
    expect((env1.data as { dedupKey: string }).dedupKey).toBe('schedule:flight_delay:2026-01-05T03:00');
    expect((env1.data as { dedupKey: string }).dedupKey).not.toBe((env2.data as { dedupKey: string }).dedupKey);
    expect(Object.values(t.scheduler_jobs).some((j) => j.event === 'driftCheckRequested' && j.data_json.includes(`"view":"${features.views[0]!.name}"`))).toBe(false);
  });

  it('every offline table and the quarantine get one daily compaction job (unless disabled), sent to compact-features', () => {
    const compactions = Object.entries(checkedIn.scheduler_jobs).filter(([, j]) => j.event === 'featureCompactionRequested');
    const targets = compactions.map(([, j]) => JSON.parse(j.data_json) as { view?: string; quarantine?: boolean });
    expect(targets.filter((d) => d.view).map((d) => d.view).sort()).toEqual(features.views.map((v) => v.name).sort());
    expect(targets.filter((d) => d.quarantine)).toHaveLength(1);
    for (const [name, j] of compactions) {
      expect(j.schedule, name).toMatch(/^\S+ \S+ \* \* \*$/); // daily
      expect(j.data_json, `${name}: the function picks yesterday from the trigger time`).not.toContain('day');
      expect(checkedIn.functions['compact-features']!.trigger_topic).toBe(j.topic);
    }
    const off = buildTopology({ ...inputs, schedules: parseSchedulePlan({ compaction: { enabled: false } }) }).topology;
    expect(Object.values(off.scheduler_jobs).some((j) => j.event === 'featureCompactionRequested')).toBe(false);
  });

  it('the training reconciler publishes {"reconcile": true} to the job-state topic every 15 minutes, where complete-training consumes it', () => {
    const job = checkedIn.scheduler_jobs['ctloop-reconcile-training']!;
    expect(job).toMatchObject({ schedule: '*/15 * * * *', topic: RAW_TOPICS.vertexJobState, event: '', attributes: { source: 'cloud-scheduler/ctloop-reconcile-training' } });
    expect(JSON.parse(job.data_json)).toEqual(RECONCILE_MESSAGE);
    expect(Object.values(checkedIn.functions).filter((f) => f.trigger_topic === job.topic).map((f) => f.entry_point)).toEqual(['completeTraining']);
    // Configurable, and refused without a consumer.
    const off = buildTopology({ ...inputs, schedules: parseSchedulePlan({ trainingReconciler: { enabled: false } }) }).topology;
    expect(off.scheduler_jobs['ctloop-reconcile-training']).toBeUndefined();
    const hourly = buildTopology({ ...inputs, schedules: parseSchedulePlan({ trainingReconciler: { schedule: '0 * * * *' } }) }).topology;
    expect(hourly.scheduler_jobs['ctloop-reconcile-training']!.schedule).toBe('0 * * * *');
    expect(() => buildTopology({ ...inputs, messageFunctions: [] })).toThrow(/no function consumes its topic/);
  });

  it('invalid schedules are refused with the reason', () => {
    expect(() => parseSchedulePlan({ driftChecks: { defaults: { schedule: 'daily' } } })).toThrow(/cron/);
    expect(() => buildTopology({ ...inputs, schedules: parseSchedulePlan({ driftChecks: { views: { no_such_view: {} } } }) })).toThrow(/unknown feature view/);
    expect(() => envelopeFromDataOnlyMessage({ body: { view: 'x' }, attributes: { 'ctloop-body': 'data' }, messageId: '1', publishTime: '2026-01-01T00:00:00Z' })).toThrow(/type/);
    expect(() =>
      envelopeFromDataOnlyMessage({ body: { windowSeconds: 60 }, attributes: { 'ctloop-body': 'data', type: catalog.driftCheckRequested.type }, messageId: '1', publishTime: '2026-01-01T00:00:00Z' }),
    ).toThrow(/view/);
  });
});

describe('BigQuery tables', () => {
  it('table schemas match the feature definitions', async () => {
    const onDisk = await readGenerated(GENERATED);
    for (const v of features.views) {
      const off = checkedIn.feature_tables[v.table];
      expect(off, `offline table of ${v.name}`).toBeDefined();
      expect(JSON.parse(onDisk[`bigquery-schemas/${off!.schema_file}`]!)).toEqual(bigQuerySchema(offlineColumns(v)));
      // History is partitioned by event time and clustered by the join keys.
      expect(off!.partition_field).toBe(v.timestampField);
      expect(off!.clustering).toEqual(v.entity.joinKeys.map((k) => k.name).slice(0, 4));
      expect(off!.view).toBe(v.name);
    }
    // Plus the tables the functions write besides feature views: quarantine, drift history, training requests. No
    // `__online` table: online values live in the online store.
    expect(Object.keys(checkedIn.feature_tables).sort()).toEqual([...features.views.map((v) => v.table), '_drift_history', '_quarantine', '_training_requests'].sort());
    expect(Object.keys(onDisk).filter((f) => f.includes('__online'))).toEqual([]);
    expect(checkedIn.feature_tables._quarantine).toMatchObject({ kind: 'quarantine', partition_field: 'quarantined_at' });
  });

  it('the generated topology is what the generator produces now', () => {
    expect(checkedIn).toEqual({ '//': expect.any(String), ...topology });
  });
});
