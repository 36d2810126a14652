import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEndpoint, type ClosableEndpoint } from '../../shared/adapters/endpoint/index.js';
import { bucketOf } from '../../shared/adapters/endpoint/split.js';
import { createModelRegistry } from '../../shared/adapters/model-registry/index.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';
import { BackendError } from '../../shared/errors.js';
import type { ModelRegistry } from '../../shared/ports/model-registry.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { registerStandinVersion, standinServerCommand, type StandinModel } from '../helpers/endpoint-fixtures.js';
import { runEndpointContract } from './endpoint.contract.js';

const BUCKET = 'ctloop-artifacts';

async function embedded(supervisor = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-endpoint-'));
  const warehouse = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
  const objectStore = new LocalObjectStore(join(dir, 'objects'));
  const registry = await createModelRegistry({ kind: 'embedded' }, { warehouse, objectStore, bucket: BUCKET });
  const endpoint = await createEndpoint({ kind: 'embedded', dir: join(dir, 'endpoints') }, { registry, objectStore, bucket: BUCKET, command: standinServerCommand, supervisor });
  let run = 0;
  return {
    dir, warehouse, objectStore, registry, endpoint,
    add: (model: string, spec: StandinModel) => registerStandinVersion(registry, objectStore, BUCKET, model, `run-${++run}`, spec),
    async close() {
      await endpoint.close();
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

runEndpointContract('embedded (one stand-in model-server process per deployed version)', async () => {
  const e = await embedded();
  return { endpoint: e.endpoint, addVersion: (model, bias) => e.add(model, { bias }), close: e.close };
});

describe('embedded endpoint: supervision and split', () => {
  const crashes: { deployedModelId: string }[] = [];
  let e: Awaited<ReturnType<typeof embedded>>;
  beforeAll(async () => {
    e = await embedded({ healthTimeoutMs: 3000, maxRestarts: 3, onCrash: (c: { deployedModelId: string }) => crashes.push(c) });
  });
  afterAll(async () => {
    await e?.close();
  });

  it('a version whose server fails health is not deployed and the current split is untouched', async () => {
    const good = await e.add('m_health', { bias: 0 });
    const bad = await e.add('m_health', { bias: 0, failHealth: true });
    const d = await e.endpoint.deploy('m_health', good, { trafficPercent: 100 });
    const err = await e.endpoint.deploy('m_health', bad, { trafficPercent: 10 }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(BackendError);
    expect(String((err as Error).message)).toMatch(/did not answer \/health with 200 within 3000 ms/);
    const s = await e.endpoint.describe('m_health');
    expect(s!.trafficSplit).toEqual({ [d.deployedModelId]: 100 });
    expect(s!.deployedModels.map((x) => x.version)).toEqual([good]);
  });

  it('a crashed server is reported, restarted and serves again', async () => {
    const v = await e.add('m_crash', { bias: 1, crashOnPredict: 2 });
    const d = await e.endpoint.deploy('m_crash', v, { trafficPercent: 100 });
    await e.endpoint.predict('m_crash', [{}]);
    await expect(e.endpoint.predict('m_crash', [{}])).rejects.toThrow(/is not serving/);
    // The exit is seen, reported and the server restarted (waited for as a condition, not a fixed sleep).
    await vi.waitFor(async () => expect((await e.endpoint.describe('m_crash'))!.deployedModels[0]!.restarts).toBe(1), { timeout: 10_000, interval: 50 });
    const p = await e.endpoint.predict('m_crash', [{}]);
    expect(p.deployedModelId).toBe(d.deployedModelId);
    const s = await e.endpoint.describe('m_crash');
    expect(s!.deployedModels[0]).toMatchObject({ health: 'healthy', restarts: 1 });
  });

  it('a server that keeps failing after a crash is given up after maxRestarts, reported, and shown unhealthy', async () => {
    const flag = join(e.dir, 'sick');
    const v = await e.add('m_giveup', { bias: 0, crashOnPredict: 1, failHealthIf: flag });
    await e.endpoint.deploy('m_giveup', v, { trafficPercent: 100 });
    await writeFile(flag, '');
    const before = crashes.length;
    await expect(e.endpoint.predict('m_giveup', [{}])).rejects.toThrow(/is not serving/);
    await vi.waitFor(async () => expect((await e.endpoint.describe('m_giveup'))!.deployedModels[0]!.health).toBe('unhealthy'), { timeout: 20_000, interval: 100 });
    const d = (await e.endpoint.describe('m_giveup'))!.deployedModels[0]!;
    expect(d.restarts).toBe(3);
    expect(d.detail).toMatch(/failed 4 times in a row and is not restarted again/);
    expect(crashes.slice(before).map((c) => c.deployedModelId)).toEqual([d.deployedModelId]); // the crash, reported once
    await expect(e.endpoint.predict('m_giveup', [{}])).rejects.toMatchObject({ hint: expect.stringMatching(/keeps failing; `ctloop endpoints` shows why/) });
  });

  it('routes each request id to the same deployed model, in the proportions of the split', async () => {
    const a = await e.add('m_split', { bias: -2 });
    const b = await e.add('m_split', { bias: 2 });
    const da = await e.endpoint.deploy('m_split', a, { trafficPercent: 100 });
    const db = await e.endpoint.deploy('m_split', b, { trafficPercent: 30 });
    const ids = Array.from({ length: 60 }, (_, i) => `req-${i}`);
    const first = await Promise.all(ids.map((r) => e.endpoint.predict('m_split', [{}], { requestId: r })));
    const again = await Promise.all(ids.map((r) => e.endpoint.predict('m_split', [{}], { requestId: r })));
    expect(again.map((p) => p.deployedModelId)).toEqual(first.map((p) => p.deployedModelId));
    // The choice is the documented function of the request id: sorted ids own consecutive bucket ranges.
    const [lo, hi] = [da.deployedModelId, db.deployedModelId].sort();
    const share = { [da.deployedModelId]: 70, [db.deployedModelId]: 30 };
    const expected = ids.map((r) => (bucketOf('m_split', r) < share[lo!]! ? lo : hi));
    expect(first.map((p) => p.deployedModelId)).toEqual(expected);
    expect(new Set(expected).size).toBe(2);
  });

  it('another process (a second endpoint on the same state) serves what the first deployed', async () => {
    const v = await e.add('m_shared', { bias: 0.5 });
    await e.endpoint.deploy('m_shared', v, { trafficPercent: 100 });
    const other: ClosableEndpoint = await createEndpoint({ kind: 'embedded', dir: join(e.dir, 'endpoints') }, {
      registry: e.registry as ModelRegistry, objectStore: e.objectStore, bucket: BUCKET, command: standinServerCommand,
    });
    try {
      const p = await other.predict('m_shared', [{}]);
      expect(p.version).toBe(v);
      // A traffic change made by one process is seen by the other's next request (its cached state is stale).
      const v2 = await e.add('m_shared', { bias: 0.7 });
      const d2 = await e.endpoint.deploy('m_shared', v2, { trafficPercent: 10 });
      await e.endpoint.setTraffic('m_shared', { [p.deployedModelId]: 0, [d2.deployedModelId]: 100 });
      expect((await other.predict('m_shared', [{}])).version).toBe(v2);
    } finally {
      await other.close();
    }
    void (e.warehouse as Warehouse);
  });
});
