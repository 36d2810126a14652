import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { blocksIn, MODULES, ROOT } from './helpers.js';

interface Step { id: string; name: string; args?: string[]; waitFor?: string[]; entrypoint?: string; env?: string[] }
const text = readFileSync(join(ROOT, 'cloudbuild.yaml'), 'utf8');
const build = parse(text) as { steps: Step[]; substitutions: Record<string, string>; options: Record<string, unknown> };
const ids = build.steps.map((s) => s.id);
const body = (id: string) => {
  const s = build.steps.find((x) => x.id === id)!;
  return [s.name, s.entrypoint ?? '', ...(s.args ?? []), ...(s.env ?? [])].join('\n');
};

describe('cloudbuild.yaml', () => {
  it('has the pull-request checks and the deploy steps', () => {
    for (const id of ['npm-ci', 'typecheck', 'lint', 'unit-tests', 'integration-tests', 'pubsub-emulator', 'infra-gen-check', 'topology-tests', 'terraform-fmt', 'terraform-plan', 'images', 'terraform-apply']) {
      expect(ids, id).toContain(id);
    }
    expect(body('terraform-fmt')).toContain('-check');
    expect(body('infra-gen-check')).toContain('--check');
    expect(body('integration-tests')).toContain('PUBSUB_EMULATOR_HOST=pubsub-emulator:8085');
    expect(body('pubsub-emulator')).toContain('--network=cloudbuild');
    expect(body('terraform-apply')).toContain('"$_PIPELINE" != "main"');
    expect(body('images')).toContain('$SHORT_SHA');
  });

  it('waits only on steps that exist, and applies only after every check', () => {
    for (const s of build.steps) for (const w of s.waitFor ?? []) if (w !== '-') expect(ids, `${s.id} waits for ${w}`).toContain(w);
    const before = (id: string): Set<string> => {
      const s = build.steps.find((x) => x.id === id)!;
      const deps = (s.waitFor ?? ids.slice(0, ids.indexOf(id))).filter((w) => w !== '-');
      return new Set([...deps, ...deps.flatMap((d) => [...before(d)])]);
    };
    const applyDeps = before('terraform-apply');
    for (const check of ['typecheck', 'lint', 'unit-tests', 'integration-tests', 'topology-tests', 'terraform-fmt', 'infra-gen-check', 'terraform-plan']) {
      expect(applyDeps.has(check), `terraform-apply does not wait for ${check}`).toBe(true);
    }
  });

  it('documents every substitution it uses, and the triggers set them', async () => {
    const used = new Set([...text.matchAll(/\$(_[A-Z_]+)/g)].map((m) => m[1]!));
    for (const s of used) {
      expect(Object.keys(build.substitutions), `${s} has no default`).toContain(s);
      expect(text, `${s} is not documented in the header`).toMatch(new RegExp(`^#\\s+${s}\\s`, 'm'));
    }
    const r = await blocksIn(join(MODULES, 'cloud_build_triggers'), 'resource');
    const locals = readFileSync(join(MODULES, 'cloud_build_triggers', 'main.tf'), 'utf8');
    for (const s of used) if (s !== '_PIPELINE') expect(locals, `trigger does not set ${s}`).toContain(`${s} `);
    expect(r.google_cloudbuild_trigger.pull_request[0].substitutions).toContain('_PIPELINE = "pr"');
    expect(r.google_cloudbuild_trigger.deploy[0].substitutions).toContain('_PIPELINE = "main"');
    expect(r.google_cloudbuild_trigger.pull_request[0].filename).toBe('cloudbuild.yaml');
  });
});
