import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';

/** `ctloop drift` file mode: the JSON shape, scipy's numbers, and clear errors naming file and column. */
const FX = 'test/fixtures/drift';
const ctloop = (...args: string[]) => spawnSync(process.execPath, ['bin/ctloop.mjs', 'drift', ...args], { encoding: 'utf8', env: { ...process.env, CTLOOP_DEBUG: '' } });

describe('ctloop drift (file mode)', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ctloop-drift-cli-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('prints the JSON report with scipy-exact numbers under the Evidently default selection', async () => {
    const r = ctloop('--reference', `${FX}/reference.csv`, '--current', `${FX}/current.csv`, '--format', 'json');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['dataset_drift', 'drift_share', 'share_drifted', 'features', 'anomalies', 'skipped']);
    expect(report.skipped).toEqual([]);
    const expected = JSON.parse(await readFile(`${FX}/cli-expected.json`, 'utf8')) as Record<string, { method: string; p_value: number; statistic: number }>;
    for (const f of report.features) {
      expect(Object.keys(f)).toEqual(['name', 'kind', 'method', 'statistic', 'p_value', 'threshold', 'drifted']);
      const e = expected[f.name]!;
      expect(f.method).toBe(e.method);
      expect(Math.abs(f.p_value - e.p_value) / e.p_value).toBeLessThan(1e-6);
      expect(Math.abs(f.statistic - e.statistic) / e.statistic).toBeLessThan(1e-6);
    }
    expect(report).toMatchObject({ dataset_drift: false, drift_share: 0.5, share_drifted: 1 / 3 });
    for (const a of report.anomalies) expect(Object.keys(a).sort()).toEqual(['expected', 'feature', 'kind', 'observed']);
  });

  it('applies --method, --threshold, --categorical and --preset vertex', () => {
    const r = ctloop('--reference', `${FX}/reference.csv`, '--current', `${FX}/current.csv`, '--format', 'json', '--method', 'delay=psi', '--threshold', 'delay=5', '--categorical', 'distance');
    expect(r.status, r.stderr).toBe(0);
    const f = Object.fromEntries(JSON.parse(r.stdout).features.map((x: { name: string }) => [x.name, x]));
    expect(f.delay).toMatchObject({ method: 'psi', threshold: 5, drifted: false, p_value: null });
    // distance read as categorical has 399 values in 600 rows: too few rows per value, so it is not compared …
    expect(f.distance).toBeUndefined();
    expect(JSON.parse(r.stdout).skipped).toEqual([expect.objectContaining({ name: 'distance', kind: 'categorical', reason: 'high_cardinality', details: { distinct: 399, values: 600, maxDistinctShare: 0.02, floor: 20 } })]);
    // … unless the rule is turned off.
    const all = ctloop('--reference', `${FX}/reference.csv`, '--current', `${FX}/current.csv`, '--format', 'json', '--categorical', 'distance', '--cardinality-share', '1');
    expect(JSON.parse(all.stdout).features.find((x: { name: string }) => x.name === 'distance')).toMatchObject({ kind: 'categorical', method: 'chisquare' });
    const v = JSON.parse(ctloop('--reference', `${FX}/reference.csv`, '--current', `${FX}/current.csv`, '--format', 'json', '--preset', 'vertex').stdout);
    expect(v.features.map((x: { method: string; threshold: number }) => [x.method, x.threshold])).toEqual([['jensenshannon_divergence', 0.3], ['l_infinity', 0.3], ['jensenshannon_divergence', 0.3]]);
  });

  it('names the missing column, the empty file and the unreadable column, without a stack trace', async () => {
    await writeFile(join(dir, 'cur-missing.csv'), 'delay,origin\n1.5,SFO\n');
    let r = ctloop('--reference', `${FX}/reference.csv`, '--current', join(dir, 'cur-missing.csv'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`column distance of ${FX}/reference.csv is missing from ${join(dir, 'cur-missing.csv')}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);

    await writeFile(join(dir, 'empty.csv'), '');
    r = ctloop('--reference', join(dir, 'empty.csv'), '--current', `${FX}/current.csv`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`file ${join(dir, 'empty.csv')} is empty: it has no header`);

    await writeFile(join(dir, 'cur-text.csv'), 'delay,origin,distance\nlate,SFO,100\n');
    r = ctloop('--reference', `${FX}/reference.csv`, '--current', join(dir, 'cur-text.csv'));
    expect(r.stderr).toContain(`column delay of ${join(dir, 'cur-text.csv')} holds "late", which is not a number, but it is numerical in the reference`);
    expect(r.stderr).toContain('--categorical delay');

    const w = await createDuckDbWarehouse({ path: ':memory:' });
    await w.execute(`COPY (SELECT 1.5 AS delay, {'a': 1} AS nested) TO '${join(dir, 'nested.parquet')}' (FORMAT parquet)`);
    await w.close();
    r = ctloop('--reference', join(dir, 'nested.parquet'), '--current', join(dir, 'nested.parquet'), '--format', 'json');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: 'VALIDATION_FAILED', message: expect.stringContaining(`column nested of ${join(dir, 'nested.parquet')} has type STRUCT`) });

    r = ctloop('--reference', `${FX}/reference.csv`, '--format', 'json');
    expect(JSON.parse(r.stderr)).toMatchObject({ error: 'USAGE', message: expect.stringContaining('needs --reference and --current') });
  });
});
