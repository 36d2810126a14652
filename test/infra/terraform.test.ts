import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../shared/events/catalog.js';
import { PRIMITIVE_ROLES } from '../../shared/topology/iam.js';
import {
  blocksIn, declaredVariables, ENVS, GENERATED, INFRA, MODULES, objectTypeAttributes, parseTf, rel, terraform, terraformBin, tfFiles,
  type Hcl,
} from './helpers.js';

const MODULE_NAMES = [
  'artifact_buckets', 'artifact_registry', 'cloud_build_triggers', 'event_function', 'event_topic', 'feature_dataset',
  'monitoring', 'online_store', 'platform', 'scheduler_jobs', 'vertex_ai',
];
const META_ARGS = new Set(['source', 'for_each', 'count', 'depends_on', 'providers', 'version']);
const generated = JSON.parse(readFileSync(join(GENERATED, 'topology.auto.tfvars.json'), 'utf8')) as Record<string, Record<string, Record<string, unknown>>>;

function variableFiles(): string[] {
  return [...MODULE_NAMES.map((m) => join(MODULES, m, 'variables.tf')), ...ENVS.map((e) => join(e, 'variables.tf'))];
}

describe('module layout', () => {
  it('every module has main.tf, variables.tf, outputs.tf, versions.tf and README.md', () => {
    expect(readdirSync(MODULES).sort()).toEqual(MODULE_NAMES);
    for (const m of MODULE_NAMES) {
      for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md']) expect(existsSync(join(MODULES, m, f)), `${m}/${f}`).toBe(true);
    }
  });

  it('every module and root pins the google provider to a major version and Terraform to >= 1.5', async () => {
    for (const dir of [...MODULE_NAMES.map((m) => join(MODULES, m)), ...ENVS]) {
      const h = await parseTf(join(dir, 'versions.tf'));
      const tf = h.terraform[0];
      expect(tf.required_version, rel(dir)).toMatch(/>= 1\.5/);
      const google = tf.required_providers[0].google;
      expect(google.source).toBe('hashicorp/google');
      expect(google.version, rel(dir)).toMatch(/^~> 6\.\d+$/);
    }
  });

  it('the roots keep state in GCS and load the generated topology', async () => {
    for (const env of ENVS) {
      const h = await parseTf(join(env, 'versions.tf'));
      expect(h.terraform[0].backend.gcs[0].prefix).toBe(`ctloop/${env.split('/').pop()}`);
      const link = join(env, 'topology.auto.tfvars.json');
      expect(realpathSync(link)).toBe(realpathSync(join(GENERATED, 'topology.auto.tfvars.json')));
      const mods = await blocksIn(env, 'module');
      expect(Object.keys(mods)).toEqual(['platform']);
    }
  });
});

describe('variables', () => {
  it('every variable has a type and a description, and every output a description', async () => {
    for (const f of tfFiles()) {
      const h = await parseTf(f);
      for (const [name, [v]] of Object.entries((h.variable ?? {}) as Record<string, Hcl[]>)) {
        expect(v!.type, `${rel(f)}: variable ${name} has no type`).toBeTruthy();
        expect(typeof v!.description === 'string' && v!.description.length > 10, `${rel(f)}: variable ${name} has no description`).toBe(true);
      }
      for (const [name, [o]] of Object.entries((h.output ?? {}) as Record<string, Hcl[]>)) {
        expect(typeof o!.description === 'string' && o!.description.length > 3, `${rel(f)}: output ${name} has no description`).toBe(true);
      }
    }
  });

  it('variables are declared only in variables.tf, in alphabetical order', () => {
    for (const f of tfFiles()) {
      if (!f.endsWith('variables.tf')) expect(declaredVariables(f), `${rel(f)} declares variables outside variables.tf`).toEqual([]);
    }
    for (const f of variableFiles()) {
      const names = declaredVariables(f);
      expect(names.length, rel(f)).toBeGreaterThan(0);
      expect(names, `${rel(f)} is not alphabetical`).toEqual([...names].sort());
    }
  });

  it('the topology variables of the roots and the platform module accept exactly the generated attributes', async () => {
    for (const dir of [...ENVS, join(MODULES, 'platform')]) {
      const vars = await blocksIn(dir, 'variable');
      for (const key of ['topics', 'functions', 'scheduler_jobs', 'feature_tables', 'online_views']) {
        const sample = Object.values(generated[key] ?? {})[0];
        if (!sample) continue;
        const attrs = objectTypeAttributes(readFileSync(join(dir, 'variables.tf'), 'utf8').split(`variable "${key}"`)[1]!.split('\nvariable ')[0]!);
        expect(attrs, `${rel(dir)}: variable ${key}`).toEqual(Object.keys(sample).sort());
        expect(vars[key][0].type).toContain('map(object(');
      }
    }
  });
});

describe('module calls', () => {
  it('pass every required variable and only declared variables (what terraform validate would check)', async () => {
    const dirs = [join(MODULES, 'platform'), ...ENVS];
    let calls = 0;
    for (const dir of dirs) {
      const mods = await blocksIn(dir, 'module');
      for (const [name, [call]] of Object.entries(mods as Record<string, Hcl[]>)) {
        const target = resolve(dir, call!.source as string);
        const declared = (await blocksIn(target, 'variable')) as Record<string, Hcl[]>;
        const passed = Object.keys(call!).filter((k) => !META_ARGS.has(k));
        for (const k of passed) expect(declared[k], `${rel(dir)} module ${name} passes undeclared ${k}`).toBeDefined();
        for (const [k, [v]] of Object.entries(declared)) {
          if (!('default' in v!)) expect(passed, `${rel(dir)} module ${name} misses required ${k}`).toContain(k);
        }
        calls++;
      }
    }
    expect(calls).toBeGreaterThanOrEqual(11);
  });

  it('references to module outputs name outputs that exist', async () => {
    for (const dir of [join(MODULES, 'platform'), ...ENVS]) {
      const mods = (await blocksIn(dir, 'module')) as Record<string, Hcl[]>;
      const text = readdirSync(dir).filter((f) => f.endsWith('.tf')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
      for (const m of text.matchAll(/module\.([a-z_]+)(?:\[[^\]]+\])?\.([a-z_]+)/g)) {
        const call = mods[m[1]!];
        expect(call, `${rel(dir)}: unknown module ${m[1]}`).toBeDefined();
        const outputs = await blocksIn(resolve(dir, call![0]!.source as string), 'output');
        expect(outputs[m[2]!], `${rel(dir)}: module.${m[1]} has no output ${m[2]}`).toBeDefined();
      }
    }
  });

  it('the platform instantiates the generated topology entry by entry', async () => {
    const mods = (await blocksIn(join(MODULES, 'platform'), 'module')) as Record<string, Hcl[]>;
    expect(mods.topics![0]!.for_each).toBe('${var.topics}');
    expect(mods.functions![0]!.for_each).toBe('${var.functions}');
    // Catalog topics and the Vertex AI job-state topic (complete-training, the reconcile schedule), one lookup.
    expect(mods.functions![0]!.trigger_topic_id).toBe('${local.trigger_topics[each.value.trigger_topic].topic_id}');
    expect(mods.functions![0]!.dead_letter_topic_id).toBe('${local.trigger_topics[each.value.trigger_topic].dead_letter_topic_id}');
    expect(mods.scheduler![0]!.topic_ids).toBe('${{ for name, t in local.trigger_topics : name => t.topic_id }}');
    const platformText = readFileSync(join(MODULES, 'platform', 'main.tf'), 'utf8');
    expect(platformText).toMatch(/\(module\.vertex_ai\.job_state_topic\) = \{ topic_id = module\.vertex_ai\.job_state_topic_id, dead_letter_topic_id = module\.vertex_ai\.job_state_dead_letter_topic_id \}/);
    expect(mods.scheduler![0]!.jobs).toBe('${var.scheduler_jobs}');
    expect(mods.feature_dataset![0]!.tables).toBe('${var.feature_tables}');
    const vars = (await blocksIn(join(MODULES, 'platform'), 'variable')) as Record<string, Hcl[]>;
    expect(vars.alerts_topic![0]!.default).toBe(catalog.alertRaised.topic);
  });
});

describe('resources', () => {
  it('every Pub/Sub subscription has a dead-letter policy with max attempts and a retry policy (dead-letter holds excepted)', async () => {
    let checked = 0;
    for (const f of tfFiles()) {
      const subs = ((await parseTf(f)).resource?.google_pubsub_subscription ?? {}) as Record<string, Hcl[]>;
      for (const [name, [s]] of Object.entries(subs)) {
        if (/dead_letter_hold$/.test(name)) {
          // Terminal subscriptions on dead-letter topics: nothing to forward to.
          expect(s!.topic, `${rel(f)} ${name}`).toMatch(/dead_letter/);
          continue;
        }
        const dl = s!.dead_letter_policy?.[0];
        expect(dl, `${rel(f)}: subscription ${name} has no dead_letter_policy`).toBeDefined();
        expect(dl.dead_letter_topic, `${rel(f)} ${name}`).toBeTruthy();
        expect(dl.max_delivery_attempts, `${rel(f)} ${name}`).toBeTruthy();
        expect(s!.retry_policy?.[0]?.minimum_backoff, `${rel(f)}: subscription ${name} has no retry_policy`).toBeTruthy();
        checked++;
      }
    }
    // The event_function push subscription (every function, the job-state consumer included); no pull subscription
    // is left without a consumer.
    expect(checked).toBeGreaterThanOrEqual(1);
  });

  it('dead letters are held for the longest Pub/Sub allows (31 days), so `ctloop dead-letters` can still read them', async () => {
    const vars = await blocksIn(join(MODULES, 'event_topic'), 'variable');
    const retention = vars.dead_letter_retention[0];
    expect(retention.default).toBe('2678400s');
    expect(JSON.stringify(retention.validation)).toContain('2678400');
    const subs = await blocksIn(join(MODULES, 'event_topic'), 'resource');
    expect(subs.google_pubsub_subscription.dead_letter_hold[0].message_retention_duration).toBe('${var.dead_letter_retention}');
  });

  it('each function runs as its own service account and is fed by its push subscription', async () => {
    const r = await blocksIn(join(MODULES, 'event_function'), 'resource');
    expect(r.google_service_account.this[0].account_id).toBe('${var.service_account_id}');
    const fn = r.google_cloudfunctions2_function.this[0];
    expect(fn.service_config[0].service_account_email).toBe('${google_service_account.this.email}');
    expect(fn.service_config[0].ingress_settings).toBe('ALLOW_INTERNAL_ONLY');
    // Requests per instance and vCPU come from the registry (gen2 defaults to one request per instance).
    expect(fn.service_config[0].max_instance_request_concurrency).toBe('${var.concurrency}');
    expect(fn.service_config[0].available_cpu).toBe('${var.cpu}');
    const platform = await blocksIn(join(MODULES, 'platform'), 'module');
    expect(platform.functions[0].concurrency).toBe('${each.value.concurrency}');
    expect(platform.functions[0].cpu).toBe('${each.value.cpu}');
    expect(fn.build_config[0].entry_point).toBe('${var.entry_point}');
    expect(fn.event_trigger, 'triggers come from the push subscription (dead-letter policy), not Eventarc').toBeUndefined();
    const sub = r.google_pubsub_subscription.push[0];
    expect(sub.topic).toBe('${var.trigger_topic_id}');
    expect(sub.push_config[0].push_endpoint).toContain('google_cloudfunctions2_function.this.service_config[0].uri');
    expect(sub.push_config[0].oidc_token[0].service_account_email).toBe('${var.invoker_service_account_email}');
    expect(r.google_cloud_run_service_iam_member.invoker[0].role).toBe('roles/run.invoker');
    // The runtime's permanent-failure records: objectUser, conditioned to the function's own prefix.
    const dl = r.google_storage_bucket_iam_member.dead_letters[0];
    expect(dl.condition[0].expression).toContain('/objects/${var.dead_letter_prefix}');
    // Every IAM member resource of the function grants to the function's own account (or to the Pub/Sub agent).
    for (const [type, byName] of Object.entries(r)) {
      if (!type.endsWith('_iam_member')) continue;
      for (const [name, [b]] of Object.entries(byName as Record<string, Hcl[]>)) {
        expect(b!.member, `${type}.${name}`).toMatch(/^\$\{local\.member\}$|invoker_service_account_email|pubsub_service_agent/);
      }
    }
  });

  it('no primitive role (owner/editor/viewer) anywhere in Terraform or the generated topology', async () => {
    const primitive = new RegExp(`"(${PRIMITIVE_ROLES.map((r) => r.replace('/', '\\/')).join('|')})"`, 'i');
    for (const f of [...tfFiles(), join(GENERATED, 'topology.auto.tfvars.json')]) {
      expect(readFileSync(f, 'utf8'), rel(f)).not.toMatch(primitive);
    }
    // Roles reach IAM only through literals or the generated lists: collect every literal role and check it.
    const roles = new Set<string>();
    for (const f of tfFiles()) for (const m of readFileSync(f, 'utf8').matchAll(/"(roles\/[A-Za-z.]+)"/g)) roles.add(m[1]!);
    expect(roles.size).toBeGreaterThan(10);
    for (const r of roles) expect(r).toMatch(/^roles\/[a-z]+\.[A-Za-z.]+$/);
  });

  it('every BigQuery table is partitioned (when its spec says so) and clustered from the generated schema', async () => {
    const t = (await blocksIn(join(MODULES, 'feature_dataset'), 'resource')).google_bigquery_table.feature[0];
    expect(t.for_each).toBe('${var.tables}');
    expect(t.dynamic.time_partitioning[0].for_each).toBe('${each.value.partition_field == null ? [] : [each.value.partition_field]}');
    expect(t.dynamic.time_partitioning[0].content[0].field).toBe('${time_partitioning.value}');
    expect(t.clustering).toBe('${each.value.clustering}');
    expect(t.schema).toBe('${file("${var.schema_dir}/${each.value.schema_file}")}');
    for (const table of Object.values(generated.feature_tables!)) expect(existsSync(join(GENERATED, 'bigquery-schemas', table.schema_file as string))).toBe(true);
  });

  it('the Vertex AI job-state sink forwards CustomJob service logs to Pub/Sub with a writer identity allowed to publish', async () => {
    const r = await blocksIn(join(MODULES, 'vertex_ai'), 'resource');
    const sink = r.google_logging_project_sink.job_state[0];
    expect(sink.filter).toBe('resource.type="ml_job" AND resource.labels.task_name="service"');
    expect(sink.destination).toContain('pubsub.googleapis.com/');
    expect(sink.unique_writer_identity).toBe(true);
    expect(r.google_pubsub_topic_iam_member.sink_writer[0].member).toBe('${google_logging_project_sink.job_state.writer_identity}');
  });

  it('buckets use uniform access, block public access and have lifecycle rules', async () => {
    const r = await blocksIn(join(MODULES, 'artifact_buckets'), 'resource');
    for (const [name, [b]] of Object.entries(r.google_storage_bucket as Record<string, Hcl[]>)) {
      expect(b!.uniform_bucket_level_access, name).toBe(true);
      expect(b!.public_access_prevention, name).toBe('enforced');
      expect((b!.lifecycle_rule as unknown[]).length, name).toBeGreaterThan(0);
    }
  });
});

describe('online store', () => {
  it('creates a Native-mode Firestore database in the region when online_store = firestore, and nothing of Bigtable', async () => {
    const r = await blocksIn(join(MODULES, 'online_store'), 'resource');
    const db = r.google_firestore_database.online[0];
    expect(db.count).toBe('${local.firestore ? 1 : 0}');
    expect(db.type).toBe('FIRESTORE_NATIVE');
    expect(db.location_id).toBe('${var.region}');
    expect(db.name).toBe('${var.firestore_database}');
    expect(db.delete_protection_state).toContain('var.deletion_protection');
    for (const t of ['google_bigtable_instance', 'google_bigtable_table']) expect(r[t].online[0].count, t).toBe('${local.bigtable ? 1 : 0}');
    expect(r.google_bigtable_gc_policy.view[0].for_each).toBe('${local.bigtable ? var.views : {}}');
    const locals = (await parseTf(join(MODULES, 'online_store', 'main.tf'))).locals[0];
    expect(locals.firestore).toBe('${var.kind == "firestore"}');
    expect(locals.bigtable).toBe('${var.kind == "bigtable"}');
  });

  it('creates an autoscaled Bigtable instance, its table with a family per view and the GC policy per view when online_store = bigtable', async () => {
    const r = await blocksIn(join(MODULES, 'online_store'), 'resource');
    const cluster = r.google_bigtable_instance.online[0].cluster[0];
    expect(cluster.autoscaling_config[0]).toEqual({ min_nodes: '${var.bigtable_min_nodes}', max_nodes: '${var.bigtable_max_nodes}', cpu_target: '${var.bigtable_cpu_target}' });
    expect(cluster.num_nodes, 'autoscaled: no fixed node count').toBeUndefined();
    const table = r.google_bigtable_table.online[0];
    expect(table.name).toBe('${var.bigtable_table}');
    expect(table.dynamic.column_family[0].for_each).toBe('${var.views}');
    expect(table.dynamic.column_family[0].content[0].family).toBe('${column_family.value.column_family}');
    const gc = r.google_bigtable_gc_policy.view[0];
    expect(gc.column_family).toBe('${each.value.column_family}');
    expect(gc.gc_rules).toBe('${each.value.gc_rules}');
    expect(gc.table).toBe('${google_bigtable_table.online[0].name}');
  });

  it('the choice is one validated variable, passed from the roots to the platform and the module', async () => {
    for (const dir of [...ENVS, join(MODULES, 'platform')]) {
      const v = (await blocksIn(dir, 'variable')).online_store[0];
      expect(v.default, rel(dir)).toBe('firestore');
      expect(v.validation[0].condition).toBe('${contains(["firestore", "bigtable"], var.online_store)}');
    }
    for (const env of ENVS) {
      const call = (await blocksIn(env, 'module')).platform[0];
      expect(call.online_store).toBe('${var.online_store}');
      expect(call.online_views).toBe('${var.online_views}');
    }
    const mods = (await blocksIn(join(MODULES, 'platform'), 'module')) as Record<string, Hcl[]>;
    expect(mods.online_store![0]!.kind).toBe('${var.online_store}');
    expect(mods.online_store![0]!.views).toBe('${var.online_views}');
  });

  it("functions get the store's address in their environment and grants only on the store in use", async () => {
    const platform = readFileSync(join(MODULES, 'platform', 'main.tf'), 'utf8');
    expect(platform).toMatch(/function_environment = merge\(\{[\s\S]*?\}, module\.online_store\.environment, var\.function_environment\)/);
    const online = await parseTf(join(MODULES, 'online_store', 'main.tf'));
    const env = online.locals[0].environment as string;
    for (const k of ['CTLOOP_ONLINE_STORE', 'CTLOOP_FIRESTORE_DATABASE', 'CTLOOP_BIGTABLE_INSTANCE', 'CTLOOP_BIGTABLE_TABLE']) expect(env).toContain(k);
    const fn = ((await blocksIn(join(MODULES, 'platform'), 'module')) as Record<string, Hcl[]>).functions![0]!;
    expect(fn.firestore_roles).toBe('${var.online_store == "firestore" ? each.value.firestore_roles : []}');
    expect(fn.bigtable_roles).toBe('${var.online_store == "bigtable" ? each.value.bigtable_roles : []}');
    expect(fn.bigtable_instance).toBe('${module.online_store.bigtable_instance}');
  });

  it('Firestore roles are conditioned on the one database; Bigtable roles are granted on the instance, never the project', async () => {
    const r = await blocksIn(join(MODULES, 'event_function'), 'resource');
    const fs = r.google_project_iam_member.firestore[0];
    expect(fs.for_each).toBe('${toset(var.firestore_roles)}');
    expect(fs.condition[0].expression).toBe('resource.name == "projects/${var.project_id}/databases/${var.firestore_database}"');
    const bt = r.google_bigtable_instance_iam_member.online[0];
    expect(bt.for_each).toBe('${toset(var.bigtable_roles)}');
    expect(bt.instance).toBe('${var.bigtable_instance}');
    expect(r.google_project_iam_member.project[0].for_each).toBe('${toset(var.project_roles)}');
    // The function starts only once it may reach the store.
    expect(r.google_cloudfunctions2_function.this[0].depends_on).toEqual(expect.arrayContaining(['${google_project_iam_member.firestore}', '${google_bigtable_instance_iam_member.online}']));
    // No Terraform file grants a broader online-store role to a function.
    const fnText = readFileSync(join(MODULES, 'event_function', 'main.tf'), 'utf8');
    expect(fnText).not.toMatch(/roles\/(datastore|bigtable)\./);
  });
});

describe.skipIf(!terraformBin)('terraform', () => {
  if (!terraformBin) console.warn('terraform is not installed: skipping terraform fmt and the tfvars type check');

  it('terraform fmt -check -recursive infra passes', () => {
    const r = terraform(['fmt', '-check', '-recursive', '-diff', INFRA], dirname(INFRA));
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('the generated tfvars satisfy the root variable types (terraform plan on the variables only)', () => {
    // The google provider cannot be downloaded here, so `terraform validate` cannot run on the roots; but the
    // variable declarations need no provider: plan them with the generated file to let Terraform type-check it.
    for (const env of ENVS) {
      const dir = mkdtempSync(join(tmpdir(), 'ctloop-tfvars-'));
      try {
        cpSync(join(env, 'variables.tf'), join(dir, 'variables.tf'));
        cpSync(join(GENERATED, 'topology.auto.tfvars.json'), join(dir, 'topology.auto.tfvars.json'));
        writeFileSync(join(dir, 'outputs.tf'), 'output "functions" {\n  value = keys(var.functions)\n}\n');
        expect(terraform(['init', '-backend=false', '-input=false'], dir).status).toBe(0);
        const plan = terraform(['plan', '-input=false', '-no-color', '-var', 'project_id=ctloop-test'], dir);
        expect(plan.status, `${rel(env)}:\n${plan.stdout}\n${plan.stderr}`).toBe(0);
        expect(plan.stdout + plan.stderr).not.toMatch(/Warning|undeclared/i);
        for (const f of Object.keys(generated.functions!)) expect(plan.stdout).toContain(`"${f}"`);
        // The online store choice is validated before anything is planned.
        const bad = terraform(['plan', '-input=false', '-no-color', '-var', 'project_id=ctloop-test', '-var', 'online_store=redis'], dir);
        expect(bad.status).not.toBe(0);
        expect(bad.stderr).toContain('online_store must be "firestore" or "bigtable"');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
