import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkGenerated } from '../../shared/topology/files.js';
import { FEATURES, GENERATED, ROOT, SCHEDULES } from './helpers.js';

/** The checked-in Terraform inputs are exactly what `ctloop infra gen` produces from the code now. */

const tmp = mkdtempSync(join(tmpdir(), 'ctloop-infra-gen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function ctloop(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/ctloop.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('infra/generated', () => {
  it('is not stale (run `ctloop infra gen` after changing events, functions, features or schedules)', async () => {
    if (FEATURES.includes('/test/infra/fixtures/')) console.warn(`features.yaml is absent: checking against ${FEATURES}`);
    expect(await checkGenerated({ features: FEATURES, schedules: SCHEDULES, outDir: GENERATED })).toEqual([]);
  });

  it('`ctloop infra gen --check` exits 0 when fresh and 1 with the stale files when not', () => {
    const out = join(tmp, 'generated');
    cpSync(GENERATED, out, { recursive: true });
    const ok = ctloop('infra', 'gen', '--check', '--features', FEATURES, '--out', out);
    expect(ok.status, ok.out).toBe(0);
    expect(ok.out).toContain('up to date');

    const tfvars = join(out, 'topology.auto.tfvars.json');
    writeFileSync(tfvars, readFileSync(tfvars, 'utf8').replace('"max_delivery_attempts": 5', '"max_delivery_attempts": 6'));
    writeFileSync(join(out, 'bigquery-schemas', 'fv_removed_view.json'), '[]\n');
    const stale = ctloop('infra', 'gen', '--check', '--features', FEATURES, '--out', out);
    expect(stale.status).toBe(1);
    expect(stale.out).toContain('topology.auto.tfvars.json: out of date');
    expect(stale.out).toContain('bigquery-schemas/fv_removed_view.json: no longer generated');
    expect(stale.out).toContain('run `ctloop infra gen`');

    const gen = ctloop('infra', 'gen', '--features', FEATURES, '--out', out);
    expect(gen.status, gen.out).toBe(0);
    expect(gen.out).toContain('removed');
    expect(ctloop('infra', 'gen', '--check', '--features', FEATURES, '--out', out).status).toBe(0);
  });

  it('fails with a hint when the feature definitions are missing', () => {
    const r = ctloop('infra', 'gen', '--check', '--features', join(tmp, 'nope.yaml'), '--out', join(tmp, 'x'));
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/cannot read feature definitions/);
  });
});
