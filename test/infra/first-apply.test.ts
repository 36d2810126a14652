import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { blocksIn, ENVS, MODULES, parseTf, rel, ROOT, terraform, terraformBin, type Hcl } from './helpers.js';

/**
 * Faults that break or misbehave on a first `terraform apply` in a fresh project (or on every later one), caught from
 * the structure of the configuration: the google provider cannot be downloaded here, so plan/apply cannot run.
 */

const PLATFORM = join(MODULES, 'platform');
const CALLERS = [PLATFORM, ...ENVS];
/** A reference to something whose value may be unknown at plan time (a resource, module output, data, local). */
const MAY_BE_UNKNOWN = /\b(module|local|data|google_[a-z0-9_]+|time_sleep|terraform_data)\./;

type Calls = Record<string, Hcl[]>;
const moduleDir = (caller: string, call: Hcl) => resolve(caller, call.source as string);

async function variableType(dir: string, name: string): Promise<string> {
  const vars = (await blocksIn(dir, 'variable')) as Record<string, Hcl[]>;
  return String(vars[name]?.[0]?.type ?? '');
}

/** Every `for_each` of a module's resources, with the variable it iterates over (when it is one). */
async function forEachOverVariables(dir: string): Promise<Array<{ where: string; variable: string }>> {
  const out: Array<{ where: string; variable: string }> = [];
  const resources = await blocksIn(dir, 'resource');
  for (const [type, byName] of Object.entries(resources)) {
    for (const [name, [r]] of Object.entries(byName as Record<string, Hcl[]>)) {
      const fe = r!.for_each as string | undefined;
      const m = fe ? /^\$\{(?:toset\()?var\.([a-z_]+)\)?\}$/.exec(fe) : null;
      if (m) out.push({ where: `${type}.${name}`, variable: m[1]! });
    }
  }
  return out;
}

describe('17. for_each keys are known at plan time', () => {
  it('a list iterated by for_each is passed only static values; anything else is a map with static keys', async () => {
    const offenders: string[] = [];
    let checked = 0;
    for (const caller of CALLERS) {
      for (const [callName, [call]] of Object.entries((await blocksIn(caller, 'module')) as Calls)) {
        const target = moduleDir(caller, call!);
        for (const { where, variable } of await forEachOverVariables(target)) {
          if (!(variable in call!)) continue;
          const passed = call![variable] as unknown;
          const type = await variableType(target, variable);
          checked++;
          if (/^\$\{(list|set)\(/.test(type)) {
            // toset(list): the values are the keys, so they must be known at plan time.
            if (MAY_BE_UNKNOWN.test(JSON.stringify(passed))) offenders.push(`${rel(caller)} module.${callName}.${variable} → ${where}: ${JSON.stringify(passed)}`);
            continue;
          }
          expect(type, `${rel(target)} ${variable}`).toMatch(/^\$\{map\(/);
          if (typeof passed === 'object') continue; // an object literal: static keys
          const forExpr = /^\$\{\{ for (?:[a-z_]+, )?[a-z_]+ in (.+?) : (.+?) =>/.exec(String(passed));
          if (!forExpr) {
            if (MAY_BE_UNKNOWN.test(String(passed))) offenders.push(`${rel(caller)} module.${callName}.${variable}: ${String(passed)}`);
            continue;
          }
          // Iterating a module's instances (count/for_each known at plan) or static data, keyed by a static expression.
          const [, collection, key] = forExpr;
          if (!/^module\.[a-z_]+$/.test(collection!) && MAY_BE_UNKNOWN.test(collection!)) offenders.push(`${rel(caller)} module.${callName}.${variable}: iterates ${collection}`);
          if (MAY_BE_UNKNOWN.test(key!)) offenders.push(`${rel(caller)} module.${callName}.${variable}: key ${key}`);
        }
      }
    }
    expect(offenders).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it('artifact registry readers and writers are keyed by static names, not e-mails', async () => {
    const r = await blocksIn(join(MODULES, 'artifact_registry'), 'resource');
    expect(r.google_artifact_registry_repository_iam_member.readers[0].for_each).toBe('${var.readers}');
    expect(r.google_artifact_registry_repository_iam_member.writers[0].for_each).toBe('${var.writers}');
    const call = ((await blocksIn(PLATFORM, 'module')) as Calls).artifact_registry![0]!;
    expect(Object.keys(call.readers as Hcl).sort()).toEqual(['server', 'trainer']);
  });

  it('act_as ids are built from the account id, which is known at plan time (name is not, even in 6.50)', async () => {
    const outputs = (await blocksIn(join(MODULES, 'vertex_ai'), 'output')) as Record<string, Hcl[]>;
    for (const o of ['trainer_service_account', 'server_service_account']) {
      const value = String(outputs[o]![0]!.value);
      expect(value, o).toMatch(/^projects\/\$\{google_service_account\.[a-z]+\.project\}\/serviceAccounts\/\$\{google_service_account\.[a-z]+\.account_id\}@/);
      expect(value, o).not.toMatch(/\.(name|unique_id|id)\}/);
    }
  });

  it('every module and root requires google >= 6.13 (service account email and member known at plan time)', async () => {
    for (const dir of [...readdirSync(MODULES).map((m) => join(MODULES, m)), ...ENVS]) {
      const google = (await parseTf(join(dir, 'versions.tf'))).terraform[0].required_providers[0].google;
      const minor = Number(/^~> 6\.(\d+)$/.exec(google.version)?.[1]);
      expect(minor, rel(dir)).toBeGreaterThanOrEqual(13);
    }
  });
});

/** The time provider must be required where time_sleep is used, and by the roots. */
async function requiresTime(dir: string): Promise<boolean> {
  const providers = (await parseTf(join(dir, 'versions.tf'))).terraform[0].required_providers[0];
  return providers.time?.source === 'hashicorp/time';
}

describe('18. an alert policy on a log-based metric created in the same apply', () => {
  it('waits for Monitoring to see the metric: the metric name reaches the policy through a time_sleep', async () => {
    const dir = join(MODULES, 'monitoring');
    const r = await blocksIn(dir, 'resource');
    const vars = (await blocksIn(dir, 'variable')) as Record<string, Hcl[]>;
    let checked = 0;
    for (const [name, [p]] of Object.entries(r.google_monitoring_alert_policy as Record<string, Hcl[]>)) {
      for (const c of p!.conditions as Hcl[]) {
        const filter = String(c.condition_threshold?.[0]?.filter ?? '');
        if (!filter.includes('logging.googleapis.com/user/')) continue;
        checked++;
        expect(filter, name).not.toMatch(/\$\{google_logging_metric\./);
        const sleep = /\$\{time_sleep\.([a-z_]+)\.triggers\["([a-z_]+)"\]\}/.exec(filter);
        expect(sleep, `${name}: the metric name must come from a time_sleep`).not.toBeNull();
        const t = r.time_sleep[sleep![1]!][0];
        expect(t.triggers[sleep![2]!]).toMatch(/^\$\{google_logging_metric\.[a-z_]+\.name\}$/);
        const duration = String(t.create_duration).replace(/^\$\{var\.([a-z_]+)\}$/, (_, v: string) => String(vars[v]![0]!.default));
        expect(Number(/^(\d+)s$/.exec(duration)?.[1]), 'wait at least 60 s').toBeGreaterThanOrEqual(60);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(1);
    expect(await requiresTime(dir)).toBe(true);
  });
});

describe('19. the function builder', () => {
  it('gets what a build needs (as in the provider gen2 example), not cloudbuild.builds.builder', async () => {
    const text = readFileSync(join(PLATFORM, 'main.tf'), 'utf8');
    expect(text).not.toContain('roles/cloudbuild.builds.builder');
    const m = /function_builder_roles\s*=\s*\[([^\]]*)\]/.exec(text);
    expect(m?.[1]?.match(/roles\/[A-Za-z.]+/g)?.sort()).toEqual(['roles/artifactregistry.writer', 'roles/logging.logWriter', 'roles/storage.objectAdmin']);
    const r = await blocksIn(PLATFORM, 'resource');
    expect(r.google_project_iam_member.function_builder[0].for_each).toBe('${toset(local.function_builder_roles)}');
  });

  it('the functions are built only after the roles had 60 s to propagate (and the APIs are on)', async () => {
    const r = await blocksIn(PLATFORM, 'resource');
    const sleep = r.time_sleep?.function_builder_roles?.[0];
    expect(sleep, 'time_sleep.function_builder_roles').toBeDefined();
    expect(sleep.create_duration).toBe('60s');
    expect(sleep.depends_on).toEqual(expect.arrayContaining(['${google_project_iam_member.function_builder}', '${google_project_service.apis}']));
    expect(sleep.triggers.service_account).toBe('${google_service_account.function_builder.id}');
    const fns = ((await blocksIn(PLATFORM, 'module')) as Calls).functions![0]!;
    expect(fns.build_service_account).toBe('${time_sleep.function_builder_roles.triggers["service_account"]}');
    // …and inside the module only the function itself uses it.
    const fr = await blocksIn(join(MODULES, 'event_function'), 'resource');
    expect(fr.google_cloudfunctions2_function.this[0].build_config[0].service_account).toBe('${var.build_service_account}');
    const users = readFileSync(join(MODULES, 'event_function', 'main.tf'), 'utf8').match(/var\.build_service_account/g) ?? [];
    expect(users.length).toBe(1);
    expect(await requiresTime(PLATFORM)).toBe(true);
    for (const env of ENVS) expect(await requiresTime(env), rel(env)).toBe(true);
  });
});

describe('20. no module-level depends_on on a module that reads data sources', () => {
  it('(it would defer archive_file to apply time and replace every function source object)', async () => {
    const offenders: string[] = [];
    for (const caller of CALLERS) {
      for (const [name, [call]] of Object.entries((await blocksIn(caller, 'module')) as Calls)) {
        const data = await blocksIn(moduleDir(caller, call!), 'data');
        if (Object.keys(data).length > 0 && call!.depends_on) offenders.push(`${rel(caller)} module.${name} (reads ${Object.keys(data).join(', ')})`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('21. function errors alert', () => {
  it('sums 5xx responses of all codes and revisions per function before comparing with the threshold', async () => {
    const r = await blocksIn(join(MODULES, 'monitoring'), 'resource');
    const agg = r.google_monitoring_alert_policy.function_errors[0].conditions[0].condition_threshold[0].aggregations[0];
    expect(agg).toMatchObject({ per_series_aligner: 'ALIGN_SUM', cross_series_reducer: 'REDUCE_SUM', group_by_fields: ['resource.label.service_name'] });
  });

  it('every threshold above zero on a summed metric reduces across series', async () => {
    const r = await blocksIn(join(MODULES, 'monitoring'), 'resource');
    for (const [name, [p]] of Object.entries(r.google_monitoring_alert_policy as Record<string, Hcl[]>)) {
      for (const c of p!.conditions as Hcl[]) {
        const t = c.condition_threshold?.[0];
        if (!t || t.threshold_value === 0) continue; // "> 0" fires on any single series
        const agg = t.aggregations[0];
        if (agg.per_series_aligner !== 'ALIGN_SUM') continue;
        expect(agg.cross_series_reducer, name).toBe('REDUCE_SUM');
        expect((agg.group_by_fields as string[]).length, name).toBeGreaterThan(0);
      }
    }
  });
});

describe('22. CI cannot overwrite production state, and the deployer is not an owner', () => {
  const dir = join(MODULES, 'cloud_build_triggers');

  it('pull-request builds read state only and plan without the lock', async () => {
    const r = await blocksIn(dir, 'resource');
    expect(r.google_storage_bucket_iam_member.plan_state[0].role).toBe('roles/storage.objectViewer');
    const vars = (await blocksIn(dir, 'variable')) as Record<string, Hcl[]>;
    for (const role of vars.plan_roles![0]!.default as string[]) expect(role).toMatch(/viewer|Viewer|Reviewer|reader|logWriter$/);
    const build = parseYaml(readFileSync(join(ROOT, 'cloudbuild.yaml'), 'utf8')) as { steps: Array<{ id: string; args: string[] }> };
    const plan = build.steps.find((s) => s.id === 'terraform-plan')!.args.join('\n');
    expect(plan).toContain('if [ "$_PIPELINE" != "main" ]; then lock="-lock=false"; fi');
    expect(plan).toMatch(/terraform plan [^\n]*\$\$lock/);
  });

  it('prod deploys wait for approval', async () => {
    const r = await blocksIn(dir, 'resource');
    expect(r.google_cloudbuild_trigger.deploy[0].approval_config[0].approval_required).toBe('${var.approval_required}');
    expect(r.google_cloudbuild_trigger.pull_request[0].approval_config).toBeUndefined();
    const platform = ((await blocksIn(PLATFORM, 'module')) as Calls).cloud_build![0]!;
    expect(platform.approval_required).toBe('${var.deploy_approval_required}');
    const prod = ((await blocksIn(ENVS[1]!, 'module')) as Calls).platform![0]!;
    expect(prod.deploy_approval_required).toBe(true);
  });

  it('the deployer has no unconditioned IAM-admin role; its Project IAM Admin grant is limited to the managed roles', async () => {
    const vars = (await blocksIn(dir, 'variable')) as Record<string, Hcl[]>;
    const deployerRoles = vars.deployer_roles![0]!.default as string[];
    for (const admin of ['roles/resourcemanager.projectIamAdmin', 'roles/iam.securityAdmin', 'roles/iam.serviceAccountTokenCreator']) {
      expect(deployerRoles).not.toContain(admin);
    }
    const r = await blocksIn(dir, 'resource');
    const admin = r.google_project_iam_member.deployer_iam_admin[0];
    expect(admin.role).toBe('roles/resourcemanager.projectIamAdmin');
    expect(admin.condition[0].expression).toContain("api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([");
    expect(admin.condition[0].expression).toContain('local.delegated_roles');
  });

  it('the README of the module says what the deployer still holds and why', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const s of ['roles/iam.serviceAccountAdmin', 'roles/iam.serviceAccountUser', 'modifiedGrantsByRole', 'approval', '-lock=false']) expect(readme).toContain(s);
  });
});

describe('23. Artifact Registry cleanup', () => {
  it('deletes old tagged images too, keeping the keep_count newest', async () => {
    const dir = join(MODULES, 'artifact_registry');
    const repo = (await blocksIn(dir, 'resource')).google_artifact_registry_repository.images[0];
    expect(repo.cleanup_policy_dry_run).toBe(false);
    const policies = repo.cleanup_policies as Hcl[];
    const keep = policies.find((p) => p.action === 'KEEP' && p.most_recent_versions);
    expect(keep?.most_recent_versions[0].keep_count).toBe('${var.keep_count}');
    const deletesTagged = policies.filter((p) => p.action === 'DELETE' && ['ANY', 'TAGGED'].includes(p.condition?.[0]?.tag_state) && p.condition[0].older_than);
    expect(deletesTagged.length, 'a DELETE policy that matches tagged images by age').toBe(1);
    expect(deletesTagged[0]!.condition[0].tag_prefixes ?? [], 'no prefix filter: commit SHAs share none').toEqual([]);
    const vars = (await blocksIn(dir, 'variable')) as Record<string, Hcl[]>;
    expect(vars.keep_count![0]!.default).toBeGreaterThanOrEqual(1);
    expect(vars.keep_count![0]!.validation).toBeDefined();
  });
});

describe.skipIf(!terraformBin)('22. state_bucket is required with the triggers (terraform, variables only)', () => {
  /** Plan the cloud_build_triggers variables (and its locals) alone: Terraform evaluates validations without a provider. */
  function planTriggerVariables(vars: Record<string, string>): { status: number | null; out: string } {
    const tmp = mkdtempSync(join(tmpdir(), 'ctloop-ci-vars-'));
    try {
      const dir = join(MODULES, 'cloud_build_triggers');
      cpSync(join(dir, 'variables.tf'), join(tmp, 'variables.tf'));
      const main = readFileSync(join(dir, 'main.tf'), 'utf8');
      const locals = /^locals \{\n[\s\S]*?\n\}\n/m.exec(main)![0].replace(/^\s*(plan_member|deployer_member)\s*=.*$/gm, '');
      writeFileSync(join(tmp, 'locals.tf'), `${locals}\noutput "delegated" {\n  value = local.delegated_roles\n}\n`);
      expect(terraform(['init', '-backend=false', '-input=false'], tmp).status).toBe(0);
      const args = Object.entries({ environment: 'dev', github_owner: 'o', github_repository: 'r', image_repository_url: 'u', project_id: 'p', region: 'us-central1', ...vars })
        .flatMap(([k, v]) => ['-var', `${k}=${v}`]);
      const r = terraform(['plan', '-input=false', '-no-color', ...args], tmp);
      return { status: r.status, out: r.stdout + r.stderr };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  it('an empty state_bucket fails the plan with the fix; the deployer can never be delegated an admin role', () => {
    const roles = '["roles/bigquery.jobUser","roles/resourcemanager.projectIamAdmin","roles/iam.serviceAccountTokenCreator"]';
    const empty = planTriggerVariables({ state_bucket: '', grantable_roles: roles });
    expect(empty.status).not.toBe(0);
    expect(empty.out).toContain('state_bucket is empty');
    const ok = planTriggerVariables({ state_bucket: 'p-tfstate', grantable_roles: roles });
    expect(ok.status, ok.out).toBe(0);
    expect(ok.out).toContain('"roles/bigquery.jobUser"');
    expect(ok.out).not.toContain('"roles/resourcemanager.projectIamAdmin"');
    expect(ok.out).not.toContain('"roles/iam.serviceAccountTokenCreator"');
  });
});
