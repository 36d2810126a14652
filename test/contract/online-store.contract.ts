import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFeatureRepo } from '../../shared/features/definitions.js';
import { getOnlineFeatures } from '../../shared/features/online.js';
import type { OnlineRecord, OnlineStore } from '../../shared/ports/online-store.js';

/**
 * The behaviour every OnlineStore adapter must have. Each adapter's test file calls
 * `runOnlineStoreContract(label, make)`; `make` returns a fresh, empty store (its own folder, collection prefix or
 * table), and `reopen` (when the adapter persists) a new store over the same data.
 */
export interface OnlineContractTarget {
  store: OnlineStore;
  reopen?(): Promise<OnlineStore>;
  teardown?(): Promise<void>;
}

export const contractRepo = parseFeatureRepo({
  entities: [
    { name: 'route', joinKeys: [{ name: 'origin', type: 'STRING' }, { name: 'dest', type: 'STRING' }] },
    { name: 'driver', joinKeys: [{ name: 'driver_id', type: 'INT64' }] },
  ],
  featureViews: [
    {
      name: 'route_stats', entity: 'route', timestampField: 'event_ts', ttl: '1h',
      features: [{ name: 'avg_delay', type: 'FLOAT64' }, { name: 'flights', type: 'INT64' }, { name: 'note', type: 'STRING' }, { name: 'ok', type: 'BOOL' }, { name: 'seen', type: 'TIMESTAMP' }],
    },
    { name: 'driver_stats', entity: 'driver', timestampField: 'event_ts', ttl: 0, features: [{ name: 'rating', type: 'FLOAT64' }] },
  ],
});
const route = contractRepo.view('route_stats');
const driver = contractRepo.view('driver_stats');

// Event times near the wall clock (the minute this file loaded): Bigtable's GC, whose max age is the view's ttl by the
// wall clock, may delete cells stamped long ago at any moment. Answers depend only on the times given to reads.
const T0 = Math.floor(Date.now() / 60_000) * 60_000;
const at = (min: number) => new Date(T0 + min * 60_000);

function rec(key: (string | number)[], eventMin: number, values: OnlineRecord['values'], opts: { createdMin?: number; ingestId?: string } = {}): OnlineRecord {
  return { key, eventTime: at(eventMin), createdTime: at(opts.createdMin ?? 0), ingestId: opts.ingestId ?? `e${eventMin}:0`, values };
}

/** A deterministic shuffle (no dependence on timing or Math.random). */
function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function runOnlineStoreContract(label: string, make: () => Promise<OnlineContractTarget>, opts: { skipReason?: string | null } = {}): void {
  if (opts.skipReason) console.warn(`[skip] online store contract (${label}): ${opts.skipReason}`);

  describe.skipIf(Boolean(opts.skipReason))(`OnlineStore contract: ${label}`, () => {
    let t: OnlineContractTarget;
    let store: OnlineStore;
    beforeEach(async () => {
      t = await make();
      store = t.store;
    });
    afterEach(async () => {
      await store?.close();
      await t?.teardown?.();
    });

    const delay = async (key: (string | number)[]) => (await store.read(route, [key]))[0]?.values.avg_delay;
    const serve = (entities: Record<string, unknown>[], nowMin: number, features?: string[]) =>
      getOnlineFeatures({ online: store, repo: contractRepo, now: () => at(nowMin) }, { view: 'route_stats', entities, ...(features ? { features } : {}) });

    it('keeps the newest event whatever the arrival order, across writes and within one', async () => {
      await store.write(route, [rec(['A', 'B'], 30, { avg_delay: 3 })]);
      const late = await store.write(route, [rec(['A', 'B'], 10, { avg_delay: 1 })]);
      await store.write(route, [rec(['A', 'B'], 20, { avg_delay: 2 })]);
      expect(late).toEqual({ written: 0, superseded: 1 });
      expect(await delay(['A', 'B'])).toBe(3);
      await store.write(route, [rec(['C', 'D'], 50, { avg_delay: 5 }), rec(['C', 'D'], 60, { avg_delay: 6 }), rec(['C', 'D'], 40, { avg_delay: 4 })]);
      expect(await delay(['C', 'D'])).toBe(6);
      const got = (await store.read(route, [['C', 'D']]))[0]!;
      expect(got.eventTime.toISOString()).toBe(at(60).toISOString());
      expect(got.key).toEqual(['C', 'D']);
    });

    it('breaks equal event times by created time, then by ingest id, in either order; a redelivery changes nothing', async () => {
      await store.write(route, [rec(['A', 'B'], 10, { avg_delay: 2 }, { createdMin: 2 })]);
      await store.write(route, [rec(['A', 'B'], 10, { avg_delay: 1 }, { createdMin: 1 })]);
      expect(await delay(['A', 'B'])).toBe(2);
      await store.write(route, [rec(['X', 'Y'], 10, { avg_delay: 1 }, { createdMin: 1 })]);
      await store.write(route, [rec(['X', 'Y'], 10, { avg_delay: 2 }, { createdMin: 2 })]);
      expect(await delay(['X', 'Y'])).toBe(2);
      await store.write(route, [rec(['I', 'J'], 10, { avg_delay: 2 }, { ingestId: 'evt-b:0' })]);
      await store.write(route, [rec(['I', 'J'], 10, { avg_delay: 1 }, { ingestId: 'evt-a:9' })]);
      expect(await delay(['I', 'J'])).toBe(2);
      expect(await store.write(route, [rec(['I', 'J'], 10, { avg_delay: 2 }, { ingestId: 'evt-b:0' })])).toEqual({ written: 0, superseded: 1 });
      expect(await delay(['I', 'J'])).toBe(2);
    });

    it('keeps the newest row under concurrent writers, whatever their interleaving', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => [`k${i}`, 'D']);
      // 30 versions per key, each write carrying one version of every key, issued all at once in a shuffled order.
      const versions = shuffled(Array.from({ length: 30 }, (_, v) => v), 7);
      await Promise.all(versions.map((v) => store.write(route, keys.map((k, i) => rec(k, v, { avg_delay: v * 100 + i }, { createdMin: (v * 7) % 5 })))));
      const got = await store.read(route, keys);
      expect(got.map((r) => r?.values.avg_delay)).toEqual(keys.map((_, i) => 2900 + i));
    });

    it('applies the ttl at read time, at its edges, and hides values stamped after the reference time', async () => {
      await store.write(route, [rec(['A', 'B'], 0, { avg_delay: 1 })]);
      await store.write(driver, [rec([7], 0, { rating: 4.5 })]);
      const at60 = await serve([{ origin: 'A', dest: 'B' }], 60, ['avg_delay']);
      expect(at60.results[0]!.statuses).toEqual(['PRESENT']); // exactly ttl old: still served
      const after = await getOnlineFeatures({ online: store, repo: contractRepo, now: () => new Date(at(60).getTime() + 1) }, { view: 'route_stats', entities: [{ origin: 'A', dest: 'B' }], features: ['avg_delay'] });
      expect(after.results[0]).toEqual({ values: [null], statuses: ['OUTSIDE_MAX_AGE'], event_timestamps: [at(0).toISOString()] });
      const before = await getOnlineFeatures({ online: store, repo: contractRepo }, { view: 'route_stats', entities: [{ origin: 'A', dest: 'B' }], features: ['avg_delay'], asOf: new Date(at(0).getTime() - 1) });
      expect(before.results[0]).toEqual({ values: [null], statuses: ['NOT_FOUND'], event_timestamps: [null] });
      const noTtl = await getOnlineFeatures({ online: store, repo: contractRepo, now: () => at(60 * 24 * 365) }, { view: 'driver_stats', entities: [{ driver_id: '7' }] });
      expect(noTtl.results[0]).toEqual({ values: [4.5], statuses: ['PRESENT'], event_timestamps: [at(0).toISOString()] });
    });

    it('stores NULL values: a newer NULL replaces an older value, and reads back as NULL_VALUE', async () => {
      await store.write(route, [rec(['A', 'B'], 10, { avg_delay: 1, flights: 3, note: 'x', ok: true, seen: at(5) })]);
      await store.write(route, [rec(['A', 'B'], 20, { avg_delay: null, flights: 4, note: null, ok: null, seen: null })]);
      const res = await serve([{ origin: 'A', dest: 'B' }], 30);
      expect(res.metadata.feature_names).toEqual(['avg_delay', 'flights', 'note', 'ok', 'seen']);
      expect(res.results.map((r) => r.statuses[0])).toEqual(['NULL_VALUE', 'PRESENT', 'NULL_VALUE', 'NULL_VALUE', 'NULL_VALUE']);
      expect(res.results.map((r) => r.values[0])).toEqual([null, 4, null, null, null]);
    });

    it('reads back every type as written (timestamps, booleans, integers, non-finite floats, unicode text)', async () => {
      await store.write(route, [rec(['A', 'B'], 10, { avg_delay: Number.NaN, flights: 9_007_199_254_740_991, note: 'é ✓ 😀 "q" \\ \n', ok: false, seen: new Date('1969-07-20T20:17:40.123Z') })]);
      await store.write(route, [rec(['A', 'C'], 10, { avg_delay: Number.NEGATIVE_INFINITY, flights: -1, note: '', ok: true, seen: at(1) })]);
      const [a, c] = await store.read(route, [['A', 'B'], ['A', 'C']]);
      expect(a!.values).toEqual({ avg_delay: Number.NaN, flights: 9_007_199_254_740_991, note: 'é ✓ 😀 "q" \\ \n', ok: false, seen: new Date('1969-07-20T20:17:40.123Z') });
      expect(c!.values).toEqual({ avg_delay: Number.NEGATIVE_INFINITY, flights: -1, note: '', ok: true, seen: at(1) });
      expect(a!.values.seen).toBeInstanceOf(Date);
    });

    it('answers NOT_FOUND for unknown keys, in request order among known ones', async () => {
      await store.write(route, [rec(['A', 'B'], 10, { avg_delay: 1 })]);
      const res = await serve([{ origin: 'N', dest: 'O' }, { origin: 'A', dest: 'B' }, { origin: 'B', dest: 'A' }], 20, ['avg_delay']);
      expect(res.results[0]).toEqual({ values: [null, 1, null], statuses: ['NOT_FOUND', 'PRESENT', 'NOT_FOUND'], event_timestamps: [null, at(10).toISOString(), null] });
      expect(await store.read(driver, [[1], [2]])).toEqual([null, null]);
    });

    it('keeps keys with separators, quotes and unicode apart (no collisions)', async () => {
      const keys: string[][] = [
        ['1', '23'], ['12', '3'], ['1#2', '3'], ['1', '2#3'], ['a/b', 'c'], ['a', 'b/c'], ['.', '..'], ['__x__', '__y__'],
        ['", "', '"'], ['\\', '\\\\'], ['日本', '語'], ['日', '本語'], ['😀', ''.padEnd(1, 'x')], ['a\u0000b', 'c'], ['a', '\u0000bc'], [' ', '  '],
      ];
      await store.write(route, keys.map((k, i) => rec(k, 10, { avg_delay: i })));
      expect((await store.read(route, keys)).map((r) => r?.values.avg_delay)).toEqual(keys.map((_, i) => i));
      expect((await store.read(route, keys)).map((r) => r?.key)).toEqual(keys);
      // The same text in another view, and a number versus its digits, are other entities.
      await store.write(driver, [rec([123], 10, { rating: 1 })]);
      expect(await store.read(route, [['123']].map((k) => [...k, '']))).toEqual([null]);
    });

    it('reads 1,000 keys in one call, in order, with unknown keys among them', async () => {
      const keys = Array.from({ length: 1000 }, (_, i) => [`o${i}`, `d${i % 13}`]);
      for (let i = 0; i < keys.length; i += 250) await store.write(route, keys.slice(i, i + 250).map((k, j) => rec(k, 10, { avg_delay: i + j })));
      const asked = keys.map((k, i) => (i % 10 === 9 ? [`missing${i}`, 'x'] : k));
      const got = await store.read(route, asked);
      expect(got).toHaveLength(1000);
      expect(got.map((r) => r?.values.avg_delay ?? null)).toEqual(asked.map((_, i) => (i % 10 === 9 ? null : i)));
      const res = await serve(asked.map(([o, d]) => ({ origin: o, dest: d })), 20, ['avg_delay']);
      expect(res.results[0]!.statuses.filter((s) => s === 'PRESENT')).toHaveLength(900);
    });

    it('keeps what was written across a reopen', async () => {
      if (!t.reopen) return;
      await store.write(route, [rec(['A', 'B'], 20, { avg_delay: 2 }), rec(['A', 'B'], 10, { avg_delay: 1 })]);
      await store.write(route, [rec(['C', 'D'], 10, { avg_delay: null, note: 'n' })]);
      await store.close();
      store = await t.reopen();
      expect(await delay(['A', 'B'])).toBe(2);
      expect((await store.read(route, [['C', 'D']]))[0]!.values).toMatchObject({ avg_delay: null, note: 'n' });
      await store.write(route, [rec(['A', 'B'], 15, { avg_delay: 1.5 })]);
      expect(await delay(['A', 'B'])).toBe(2);
    });
  });
}
