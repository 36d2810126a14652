import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import { rng } from './data.js';

/**
 * `ctloop drift` with the input a new user gives it: empty columns and empty files on either side (anomalies in the
 * report, never a crash), out-of-range numeric options (typed usage errors naming the option and the range), and an
 * ID-like column (skipped with its reason, so two samples of one distribution do not drift).
 */
const FX = 'test/fixtures/drift';
const REF = `${FX}/reference.csv`;
const ctloop = (...args: string[]) => spawnSync(process.execPath, ['bin/ctloop.mjs', 'drift', ...args], { encoding: 'utf8', env: { ...process.env, CTLOOP_DEBUG: '' } });

interface Report {
  dataset_drift: boolean;
  features: { name: string; method: string; drifted: boolean }[];
  anomalies: { kind: string; feature: string | null }[];
  skipped: { name: string; reason: string; message: string; details?: Record<string, number> }[];
}

function report(...args: string[]): Report {
  const r = ctloop(...args, '--format', 'json');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

/** A usage error: exit 2, JSON on stderr, nothing on stdout. */
function usage(...args: string[]): { message: string; hint: string } {
  const r = ctloop(...args, '--format', 'json');
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  const err = JSON.parse(r.stderr) as { error: string; message: string; hint: string };
  expect(err.error).toBe('USAGE');
  return err;
}

describe('ctloop drift with empty data', () => {
  let dir: string;
  const f = (name: string) => join(dir, name);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-drift-input-'));
    await writeFile(f('ref.csv'), 'delay,origin\n1.5,ATL\n2.5,SFO\n3.5,ATL\n4.5,LAX\n');
    await writeFile(f('delay-empty.csv'), 'delay,origin\n,ATL\n,SFO\n,ATL\n');
    await writeFile(f('header.csv'), 'delay,origin\n');
    await writeFile(f('zero.csv'), '');
    const w = await createDuckDbWarehouse({ path: ':memory:' });
    await w.execute(`COPY (SELECT CAST(NULL AS DOUBLE) AS delay, 'ATL' AS origin FROM range(3)) TO '${f('delay-null.parquet')}' (FORMAT parquet)`);
    await w.close();
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('a ragged CSV is refused in ctloop\'s terms (file, line, fix), not with DuckDB\'s sniffer dump', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${i % 7}.5,ATL${i === 4000 ? ',x,y' : ''}`);
    await writeFile(f('ragged.csv'), `delay,origin\n${rows.join('\n')}\n`);
    const r = ctloop('--reference', f('ref.csv'), '--current', f('ragged.csv'), '--format', 'json');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const err = JSON.parse(r.stderr) as { error: string; message: string; hint: string };
    expect(err.error).toBe('VALIDATION_FAILED');
    expect(err.message).toBe(`cannot read drift input ${f('ragged.csv')}: line 4002: ragged row: 4 fields where the header has 2`);
    expect(r.stderr).not.toMatch(/sniff|read_csv|Candidates/);
  });

  it('a column numerical in the reference and empty in the current file is a missing_feature anomaly, not a TypeError', () => {
    for (const cur of [f('delay-empty.csv'), f('delay-null.parquet')]) {
      const r = report('--reference', f('ref.csv'), '--current', cur);
      expect(r.anomalies).toContainEqual({ kind: 'missing_feature', feature: 'delay', observed: { present: 0 }, expected: { presentRate: 1 } });
      expect(r.skipped).toEqual([expect.objectContaining({ name: 'delay', reason: 'no_current_values' })]);
      expect(r.features.map((x) => x.name)).toEqual(['origin']);
    }
    const text = ctloop('--reference', f('ref.csv'), '--current', f('delay-empty.csv'));
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/not compared:\n\s+delay\s+no_current_values\s+delay has no values in/);
  });

  it('an empty reference column is a no_reference_data anomaly, and the current values are not "new values" or a type change', () => {
    const r = report('--reference', f('delay-empty.csv'), '--current', f('ref.csv'));
    expect(r.anomalies).toContainEqual({ kind: 'no_reference_data', feature: 'delay', observed: { present: 4 }, expected: { present: 0 } });
    expect(r.anomalies.filter((a) => a.feature === 'delay')).toHaveLength(1);
    expect(r.skipped).toEqual([expect.objectContaining({ name: 'delay', reason: 'no_reference_values' })]);
  });

  it('a current file with no rows (header only, or zero bytes) is no_data; a reference with no rows is no_reference_data', () => {
    for (const cur of [f('header.csv'), f('zero.csv')]) {
      const r = report('--reference', f('ref.csv'), '--current', cur);
      expect(r).toMatchObject({ dataset_drift: false, features: [], anomalies: [{ kind: 'no_data', feature: null, observed: 0, expected: 4 }] });
      expect(r.skipped.map((x) => [x.name, x.reason])).toEqual([['delay', 'no_current_values'], ['origin', 'no_current_values']]);
    }
    const r = report('--reference', f('header.csv'), '--current', f('ref.csv'));
    expect(r).toMatchObject({ dataset_drift: false, features: [], anomalies: [{ kind: 'no_reference_data', feature: null }] });
    expect(r.skipped.map((x) => x.reason)).toEqual(['no_reference_values', 'no_reference_values']);
  });
});

describe('ctloop drift option ranges', () => {
  it('a file compared with itself never drifts under valid options', () => {
    const r = report('--reference', REF, '--current', REF, '--threshold', 'delay=0.5', '--drift-share', '0.1');
    expect(r.dataset_drift).toBe(false);
    expect(r.features.filter((x) => x.drifted)).toEqual([]);
  });

  it('a p-value threshold outside (0, 1) is a usage error naming the method, not drift of a file against itself', () => {
    expect(usage('--reference', REF, '--current', REF, '--threshold', 'delay=5').message)
      .toBe('--threshold delay must be in (0, 1) (ks on delay is a p-value test), got 5');
    expect(usage('--reference', REF, '--current', REF, '--method', 'delay=ks', '--threshold', 'delay=1').message).toContain('must be in (0, 1)');
  });

  it('distance thresholds are > 0 and within the distance\'s range', () => {
    expect(usage('--reference', REF, '--current', REF, '--threshold', 'delay=0').message).toMatch(/^--threshold delay must be > 0/);
    expect(usage('--reference', REF, '--current', REF, '--method', 'origin=hellinger', '--threshold', 'origin=2').message)
      .toBe('--threshold origin must be in (0, 1] (hellinger on origin is a distance, 0 for identical data), got 2');
    expect(usage('--reference', REF, '--current', REF, '--method', 'origin=jensenshannon', '--threshold', 'origin=0.9').message).toContain('in (0, 0.8326]');
    expect(report('--reference', REF, '--current', REF, '--method', 'delay=psi', '--threshold', 'delay=5').features[0]).toMatchObject({ method: 'psi', drifted: false });
  });

  it.each([
    [['--drift-share', '-1'], '--drift-share must be in (0, 1], got -1'],
    [['--drift-share', '0'], '--drift-share must be in (0, 1], got 0'],
    [['--drift-share', 'abc'], '--drift-share "abc" is not a number'],
    [['--drift-share', ''], '--drift-share "" is not a number'],
    [['--threshold', 'delay=abc'], '--threshold delay "abc" is not a number'],
    [['--method', 'delay=kss'], '--method delay=kss: unknown drift method "kss"'],
    [['--threshold', 'delay=Infinity'], '--threshold delay "Infinity" is not a number'],
    [['--cardinality-share', '0'], '--cardinality-share must be in (0, 1], got 0'],
    [['--cardinality-floor', '-1'], '--cardinality-floor must be an integer ≥ 0, got -1'],
    [['--cardinality-floor', '2.5'], '--cardinality-floor must be an integer ≥ 0, got 2.5'],
  ])('%j → usage error', (args, message) => {
    const err = usage('--reference', REF, '--current', REF, ...args);
    expect(err.message).toBe(message);
    expect(err.hint).toMatch(/^(pass (a value|an integer) |use one of: ks, )/);
  });

  it('drift history --limit is a whole number ≥ 1', () => {
    expect(usage('history', '--limit', '0').message).toBe('--limit must be an integer ≥ 1, got 0');
    expect(usage('history', '--limit', '2x').message).toBe('--limit "2x" is not a number');
  });
});

describe('ctloop drift on an ID-like column', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-drift-card-'));
    // Two samples of ONE distribution: 50 000 IDs drawn uniformly, and a numerical column.
    const sample = (seed: number) => {
      const r = rng(seed);
      return `user_id,amount\n${Array.from({ length: 60_000 }, () => `u${Math.floor(r() * 50_000)},${(r() * 100).toFixed(2)}`).join('\n')}\n`;
    };
    await writeFile(join(dir, 'a.csv'), sample(1));
    await writeFile(join(dir, 'b.csv'), sample(2));
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('skips it with its reason in JSON and text, so two samples of one distribution do not drift', () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    const r = report('--reference', a, '--current', b);
    expect(r.dataset_drift).toBe(false);
    expect(r.features.map((x) => [x.name, x.drifted])).toEqual([['amount', false]]);
    expect(r.skipped).toHaveLength(1);
    const s = r.skipped[0]!;
    expect(s).toMatchObject({ name: 'user_id', reason: 'high_cardinality', details: { values: 60_000, maxDistinctShare: 0.02, floor: 20 } });
    expect(s.details!.distinct).toBeGreaterThan(30_000); // 60 000 draws from 50 000 IDs: about 34 900 distinct
    expect(r.anomalies).toEqual([]); // its unseen IDs are expected, not "new values"
    const text = ctloop('--reference', a, '--current', b);
    expect(text.stdout).toMatch(/not compared:\n\s+user_id\s+high_cardinality\s+user_id has \d+ distinct values in 60000 reference values \(share 0\.\d+ > 0\.02, more than 20 values\)/);
    // Without the rule the same data "drifts" on sampling noise alone (the reported fault).
    const off = report('--reference', a, '--current', b, '--cardinality-share', '1');
    expect(off.features.find((x) => x.name === 'user_id')).toMatchObject({ method: 'jensenshannon', drifted: true });
    expect(off.dataset_drift).toBe(true);
  });
});
