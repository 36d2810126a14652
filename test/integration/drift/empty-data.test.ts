import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../../../shared/adapters/event-bus/index.js';
import { LocalObjectStore } from '../../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import { registerBaseline } from '../../../shared/drift/baselines.js';
import { detectDrift, type DetectDeps, type DetectOptions } from '../../../shared/drift/detect.js';
import { ConfigError } from '../../../shared/errors.js';
import { catalog, createEvent } from '../../../shared/events/catalog.js';
import { applyFeatureRepo } from '../../../shared/features/apply.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { testRepo } from '../../helpers/feature-fixtures.js';
import { insertRows, rng, routeRows } from './data.js';

/**
 * The scheduled path (functions/detect-drift → shared/drift/detect.ts, profile-sql.ts) on the same faults as file
 * mode: an empty window, a feature with no values in the window or in the baseline, an ID-like categorical feature,
 * and out-of-range configuration.
 */
const repo = testRepo();
const view = repo.view('route_stats');
const BUCKET = 'ctloop-test';
const day = (s: string) => new Date(`${s}T00:00:00Z`);
const base = { days: 7, n: 2000, flightsMax: 30, notes: ['a', 'b', 'c'], delayMean: 10 };

describe('detect-drift with empty or high-cardinality data', () => {
  let dir: string;
  let w: Warehouse;
  let bus: MemoryEventBus;
  let deps: DetectDeps;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-drift-empty-'));
    w = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
    await applyFeatureRepo(w, repo);
    bus = new MemoryEventBus({ journalDir: join(dir, 'bus') });
    await bus.subscribe({ name: 'test-alerts', topic: catalog.alertRaised.topic }, async () => undefined);
    deps = { warehouse: w, objectStore: new LocalObjectStore(join(dir, 'objects')), bus, repo, bucket: BUCKET };
    await insertRows(w, view, routeRows({ ...base, start: day('2001-01-01'), seed: 1 }));
    // February: note is NULL everywhere. April: avg_delay is NULL everywhere.
    await insertRows(w, view, routeRows({ ...base, start: day('2001-02-01'), seed: 2 }).map((r) => ({ ...r, note: null })));
    await insertRows(w, view, routeRows({ ...base, start: day('2001-04-01'), seed: 4 }).map((r) => ({ ...r, avg_delay: null })));
    // June and July: two samples of one ID-like distribution (50 000 values) in note.
    for (const [month, seed] of [['06', 6], ['07', 7]] as const) {
      const r = rng(seed * 100);
      await insertRows(w, view, routeRows({ ...base, n: 30_000, start: day(`2001-${month}-01`), seed }).map((x) => ({ ...x, note: `u${Math.floor(r() * 50_000)}` })));
    }
    const reg = (name: string, from: string, to: string) => registerBaseline({ warehouse: w, objectStore: deps.objectStore, bucket: BUCKET }, { view, name, from: day(from), to: day(to) });
    await reg('jan', '2001-01-01', '2001-01-08');
    await reg('apr', '2001-04-01', '2001-04-08');
    await reg('jun', '2001-06-01', '2001-06-08');
  });
  afterAll(async () => {
    await bus?.close();
    await w?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const check = (baseline: string, start: string, end: string, opts?: DetectOptions) =>
    detectDrift(deps, createEvent('driftCheckRequested', { view: 'route_stats', baseline, window: { start: `${start}T00:00:00Z`, end: `${end}T00:00:00Z` } }, { source: 'test' }), opts);

  it('a window with no rows is a no_data anomaly (an alert), every feature listed as not compared', async () => {
    const r = await check('jan', '2001-09-01', '2001-09-08');
    expect(r.report.anomalies).toEqual([expect.objectContaining({ kind: 'no_data', feature: null, observed: 0, expected: 2000 })]);
    expect(r.report.features).toEqual([]);
    expect(r.report.skipped.map((s) => [s.name, s.reason])).toEqual([['avg_delay', 'no_current_values'], ['flights', 'no_current_values'], ['note', 'no_current_values']]);
    expect(r.decision.action).toBe('alert');
  });

  it('a feature with no values in the window is missing_feature and not compared; the others are', async () => {
    const r = await check('jan', '2001-02-01', '2001-02-08');
    expect(r.report.anomalies).toContainEqual(expect.objectContaining({ kind: 'missing_feature', feature: 'note' }));
    expect(r.report.skipped).toEqual([expect.objectContaining({ name: 'note', reason: 'no_current_values' })]);
    expect(r.report.features.map((f) => f.name)).toEqual(['avg_delay', 'flights']);
  });

  it('a feature with no values in the baseline is no_reference_data (not blocking) and not compared', async () => {
    const r = await check('apr', '2001-01-01', '2001-01-08');
    expect(r.report.anomalies).toContainEqual(expect.objectContaining({ kind: 'no_reference_data', feature: 'avg_delay', observed: { present: 2000 } }));
    expect(r.report.skipped).toEqual([expect.objectContaining({ name: 'avg_delay', reason: 'no_reference_values' })]);
    expect(r.report.features.map((f) => f.name)).toEqual(['flights', 'note']);
    expect(r.decision.action).not.toBe('alert');
  });

  it('an ID-like categorical feature is skipped with its reason and raises no new_values on two samples of one distribution', async () => {
    const r = await check('jun', '2001-07-01', '2001-07-08');
    expect(r.report.skipped).toEqual([expect.objectContaining({ name: 'note', reason: 'high_cardinality', details: expect.objectContaining({ values: 30_000, maxDistinctShare: 0.02, floor: 20 }) })]);
    expect(r.report.anomalies).toEqual([]);
    expect(r.report.dataset_drift).toBe(false);
    // Turned off, the truncated top-100 domain would still not flag new values (its "other" share is noise).
    const off = await check('jun', '2001-07-01', '2001-07-08', { cardinality: { maxDistinctShare: 1 } });
    expect(off.report.features.map((f) => f.name)).toContain('note');
    expect(off.report.anomalies.filter((a) => a.kind === 'new_values')).toEqual([]);
  });

  it('out-of-range configuration is a ConfigError naming the key and the range, before any work', async () => {
    const bad: [DetectOptions, string][] = [
      [{ policy: { cooldownSeconds: -1 } }, 'policy.cooldownSeconds must be ≥ 0, got -1'],
      [{ policy: { cooldownSeconds: 60, minShareDrifted: 0 } }, 'policy.minShareDrifted must be in (0, 1], got 0'],
      [{ validation: { volumeFactor: 1 } }, 'validation.volumeFactor must be > 1, got 1'],
      [{ validation: { nullRateTolerance: Number.NaN } }, 'validation.nullRateTolerance must be in [0, 1), got NaN'],
      [{ cardinality: { floor: 1.5 } }, 'cardinality.floor must be an integer ≥ 0, got 1.5'],
    ];
    for (const [opts, message] of bad) {
      const err = await check('jan', '2001-01-01', '2001-01-08', opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(message);
    }
    await expect(registerBaseline({ warehouse: w, objectStore: deps.objectStore, bucket: BUCKET }, { view, from: day('2001-01-01'), to: day('2001-01-08'), options: { quantileBins: 0 } }))
      .rejects.toThrow('options.quantileBins must be an integer in [1, 1000], got 0');
  });
});
