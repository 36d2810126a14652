import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GcsObjectStore } from '../../../shared/adapters/object-store/gcs/index.js';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import { listBaselines, registerBaseline } from '../../../shared/drift/baselines.js';
import { applyFeatureRepo } from '../../../shared/features/apply.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { testRepo } from '../../helpers/feature-fixtures.js';
import { startGcsProxy, type GcsProxy } from '../../helpers/gcs-proxy.js';
import { startTestStorageEmulator, storageSkipReason, type RunningStorageEmulator } from '../../helpers/storage-emulator.js';
import { insertRows, routeRows } from './data.js';

/**
 * Registering a baseline is a write-once create (`ifGenerationMatch: 0`), which @google-cloud/storage retries.
 * When the first attempt commits and its response is lost, the retry gets 412: that must be recognised as this
 * registration's own write, not taken as a concurrent registration (which would store the baseline again as the
 * next version). Cloud Storage's behaviour comes from a proxy that commits the upload, answers 503, and enforces
 * the precondition on the retry; the client keeps the library's default retry settings.
 */
const repo = testRepo();
const view = repo.view('route_stats');
const BUCKET = 'ctloop-test';
const day = (s: string) => new Date(`${s}T00:00:00Z`);

describe.skipIf(Boolean(storageSkipReason))('baseline registration when the create response is lost', () => {
  let dir: string;
  let w: Warehouse;
  let emu: RunningStorageEmulator;
  let proxy: GcsProxy;
  let store: GcsObjectStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-baseline-lost-'));
    w = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
    await applyFeatureRepo(w, repo);
    await insertRows(w, view, routeRows({ days: 7, n: 500, flightsMax: 30, notes: ['a', 'b'], delayMean: 10, start: day('2001-01-01'), seed: 1 }));
    emu = await startTestStorageEmulator();
    proxy = await startGcsProxy(emu.host, { enforcePreconditions: true });
    store = new GcsObjectStore({ project: 'ctloop-local', apiEndpoint: proxy.host });
  });
  afterAll(async () => {
    await proxy?.close();
    await emu?.stop();
    await w?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('registers one version, not two', async () => {
    proxy.loseNextUploadResponse(503);
    const b = await registerBaseline({ warehouse: w, objectStore: store, bucket: BUCKET }, { view, name: 'lost', from: day('2001-01-01'), to: day('2001-01-08') });
    expect(b.version).toBe(1);
    expect((await listBaselines(store, BUCKET, 'lost')).map((x) => x.version)).toEqual([1]);
    const stored = JSON.parse((await store.get(b.uri)).toString('utf8')) as { id: string; createdAt: string };
    expect(stored).toMatchObject({ id: b.id, createdAt: b.createdAt });
  }, 60_000);
});
