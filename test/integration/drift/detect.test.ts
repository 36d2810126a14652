import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../../../shared/adapters/event-bus/index.js';
import { LocalObjectStore } from '../../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import { loadBaseline, registerBaseline } from '../../../shared/drift/baselines.js';
import { detectDrift, type DetectDeps } from '../../../shared/drift/detect.js';
import { readHistory } from '../../../shared/drift/history.js';
import { applyFeatureRepo } from '../../../shared/features/apply.js';
import { catalog, createEvent } from '../../../shared/events/catalog.js';
import type { Envelope } from '../../../shared/events/envelope.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { testRepo } from '../../helpers/feature-fixtures.js';
import { insertRows, routeRows } from './data.js';

/**
 * detect-drift end to end on DuckDB + the local object store + the in-process bus: baselines, reports, history,
 * and the continuous-training policy (one request across concurrent triggers, none without drift, an alert and
 * no request for a missing feature, traceability from the request back to the report, window and baseline).
 */
const repo = testRepo();
const view = repo.view('route_stats');
const BUCKET = 'ctloop-test';
const day = (s: string) => new Date(`${s}T00:00:00Z`);

describe('detect-drift on DuckDB', () => {
  let dir: string;
  let w: Warehouse;
  let bus: MemoryEventBus;
  let deps: DetectDeps;
  const seen: Record<string, Envelope[]> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-drift-'));
    w = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
    await applyFeatureRepo(w, repo);
    bus = new MemoryEventBus({ journalDir: join(dir, 'bus') });
    for (const name of ['driftReported', 'trainingRequested', 'alertRaised'] as const) {
      seen[name] = [];
      await bus.subscribe({ name: `test-${name}`, topic: catalog[name].topic }, async (e) => void seen[name]!.push(e));
    }
    deps = { warehouse: w, objectStore: new LocalObjectStore(join(dir, 'objects')), bus, repo, bucket: BUCKET };
    const base = { days: 7, n: 3000, flightsMax: 30, notes: ['a', 'b', 'c'] };
    await insertRows(w, view, routeRows({ ...base, start: day('2001-01-01'), seed: 1, delayMean: 10 }));
    await insertRows(w, view, routeRows({ ...base, start: day('2001-02-01'), seed: 2, delayMean: 10 }));
    await insertRows(w, view, routeRows({ ...base, start: day('2001-03-01'), seed: 3, delayMean: 14, flightsMax: 45, notes: ['a', 'b', 'c', 'd'] }));
  });
  afterAll(async () => {
    await bus?.close();
    await w?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const check = (start: string, end: string) => createEvent('driftCheckRequested', { view: 'route_stats', window: { start: `${start}T00:00:00Z`, end: `${end}T00:00:00Z` } }, { source: 'test' });

  it('registers versioned baselines of a view window as write-once artifacts', async () => {
    const b1 = await registerBaseline({ warehouse: w, objectStore: deps.objectStore, bucket: BUCKET }, { view, from: day('2001-01-01'), to: day('2001-01-08') });
    expect(b1).toMatchObject({ id: 'route_stats@v1', version: 1, uri: `gs://${BUCKET}/drift/baselines/route_stats/v1.json` });
    expect(b1.profile.rows).toBe(3000);
    const delay = b1.profile.features.find((f) => f.name === 'avg_delay')!;
    expect(delay.bins?.type).toBe('edges');
    expect(delay.counts!.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(delay.counts![0]).toBe(0);
    expect(delay.counts!.at(-1)).toBe(0);
    const note = b1.profile.features.find((f) => f.name === 'note')!;
    expect(note.bins).toEqual({ type: 'values', values: ['a', 'b', 'c'] });
    const b2 = await registerBaseline({ warehouse: w, objectStore: deps.objectStore, bucket: BUCKET }, { view, from: day('2001-01-01'), to: day('2001-01-08') });
    expect(b2.id).toBe('route_stats@v2');
    expect((await loadBaseline(deps.objectStore, BUCKET, 'route_stats')).id).toBe('route_stats@v2');
    expect((await loadBaseline(deps.objectStore, BUCKET, 'route_stats@v1')).version).toBe(1);
    await expect(loadBaseline(deps.objectStore, BUCKET, 'route_stats@v9')).rejects.toThrow(/no baseline route_stats@v9.*\n?.*/);
  });

  it('no drift → a report and no training request', async () => {
    const r = await detectDrift(deps, check('2001-02-01', '2001-02-08'));
    await bus.drain();
    expect(r.report.dataset_drift).toBe(false);
    expect(r.decision.action).toBe('none');
    expect(r.report.features.map((f) => [f.name, f.method])).toEqual([['avg_delay', 'wasserstein'], ['flights', 'wasserstein'], ['note', 'jensenshannon']]);
    expect(r.report.anomalies).toEqual([]);
    expect(seen.trainingRequested).toHaveLength(0);
    expect(seen.driftReported).toHaveLength(1);
  });

  it('drift → exactly one training request across two concurrent triggers, traceable to report, window and baseline', async () => {
    const t1 = check('2001-03-01', '2001-03-08');
    const t2 = check('2001-03-01', '2001-03-08');
    const [a, b] = await Promise.all([detectDrift(deps, t1), detectDrift(deps, t2)]);
    await bus.drain();
    expect(a.report.dataset_drift && b.report.dataset_drift).toBe(true);
    expect([a.trainingEventId, b.trainingEventId].filter(Boolean)).toHaveLength(1);
    expect(seen.trainingRequested).toHaveLength(1);
    const winner = a.trainingEventId ? a : b;
    const training = seen.trainingRequested![0]!;
    expect(training.id).toBe(winner.trainingEventId);
    expect(training.causationId).toBe(winner.driftEventId);
    expect(training.data).toMatchObject({ model: 'route_stats', reason: 'drift', driftReportId: winner.reportId, dedupKey: 'route_stats|2001-03-01T00:00:00.000Z|2001-03-08T00:00:00.000Z' });
    const report = seen.driftReported!.find((e) => e.id === winner.driftEventId)!;
    expect(report.causationId).toBe((winner === a ? t1 : t2).id);
    expect(report.data).toMatchObject({ reportId: winner.reportId, baseline: 'route_stats@v2', window: { start: '2001-03-01T00:00:00.000Z', end: '2001-03-08T00:00:00.000Z' }, reportUri: winner.reportUri });
    const artifact = JSON.parse((await deps.objectStore.get(winner.reportUri)).toString());
    expect(artifact).toMatchObject({ reportId: winner.reportId, baseline: { id: 'route_stats@v2', version: 2 }, window: winner.window, dataset_drift: true });
    const kinds = winner.report.anomalies.map((x) => [x.kind, x.feature]);
    expect(kinds).toContainEqual(['new_values', 'note']);
    expect(kinds).toContainEqual(['out_of_range', 'flights']);
    // A later trigger for another window inside the cooldown gets no request either.
    const later = await detectDrift(deps, check('2001-03-02', '2001-03-08'));
    await bus.drain();
    expect(later.report.dataset_drift).toBe(true);
    expect(later.trainingEventId).toBeNull();
    expect(seen.trainingRequested).toHaveLength(1);
    const hist = await readHistory(w, { view: 'route_stats' });
    expect(hist.map((h) => h.report_id)).toEqual(expect.arrayContaining([a.reportId, b.reportId, later.reportId]));
    const rows = await w.query(`SELECT feature, method, drifted, baseline_id, window_start FROM ${w.dialect.table('_drift_history')} WHERE report_id = $r ORDER BY feature`, { params: { r: { type: 'STRING', value: winner.reportId } } });
    expect(rows.map((x) => x.feature)).toEqual(['avg_delay', 'flights', 'note']);
    expect(rows[0]).toMatchObject({ baseline_id: 'route_stats@v2', window_start: new Date('2001-03-01T00:00:00Z') });
  });

  it('a redelivered trigger writes no second history and no second request', async () => {
    const t = check('2001-03-01', '2001-03-08');
    const first = await detectDrift(deps, t);
    const again = await detectDrift(deps, t);
    await bus.drain();
    expect(again.reportId).toBe(first.reportId);
    const n = await w.query(`SELECT COUNT(*) AS n FROM ${w.dialect.table('_drift_history')} WHERE report_id = $r`, { params: { r: { type: 'STRING', value: first.reportId } } });
    expect(Number(n[0]!.n)).toBe(3);
    expect(seen.trainingRequested).toHaveLength(1);
  });

  it('missing feature → an alert and no training request', async () => {
    await w.execute(`ALTER TABLE ${w.dialect.table(view.table)} DROP COLUMN note`);
    const before = seen.trainingRequested!.length;
    const r = await detectDrift({ ...deps }, createEvent('driftCheckRequested', { view: 'route_stats', model: 'other_model', window: { start: '2001-03-01T00:00:00Z', end: '2001-03-08T00:00:00Z' } }, { source: 'test' }));
    await bus.drain();
    expect(r.decision.action).toBe('alert');
    expect(r.report.anomalies).toContainEqual(expect.objectContaining({ kind: 'missing_feature', feature: 'note' }));
    expect(r.trainingEventId).toBeNull();
    expect(seen.trainingRequested).toHaveLength(before);
    const alert = seen.alertRaised!.find((e) => e.id === r.alertEventId)!;
    expect(alert.causationId).toBe(r.driftEventId);
    expect(alert.data).toMatchObject({ severity: 'critical', subject: 'view/route_stats', details: { reportId: r.reportId, baseline: 'route_stats@v2' } });
  });
});
