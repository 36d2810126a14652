import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TransientError } from '../../shared/errors.js';
import { GroupCommitIngestor } from '../../shared/features/group-commit.js';
import { getOnlineFeatures } from '../../shared/features/online.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { duckStore, testRepo } from '../helpers/feature-fixtures.js';

const repo = testRepo();
const T0 = Date.parse('2001-03-01T00:00:00Z');
const at = (m: number) => new Date(T0 + m * 60_000).toISOString();

describe('group commit ingestion', () => {
  let w: Warehouse;
  let online: OnlineStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ warehouse: w, online, cleanup } = await duckStore()));
  afterEach(() => cleanup());
  const count = async (t: string) => Number((await w.query(`SELECT COUNT(*) AS n FROM ${w.dialect.table(t)}`))[0]!.n);

  it('writes concurrent events together, once each, even when one is delivered twice at the same time', async () => {
    const g = new GroupCommitIngestor({ warehouse: w, online, repo });
    const spy = vi.spyOn(w, 'execute');
    const events = Array.from({ length: 20 }, (_, e) => ({
      view: 'route_stats', sourceId: `e${e}`, createdAt: new Date(T0),
      rows: [{ origin: `O${e % 3}`, dest: 'D', event_ts: at(e), avg_delay: e }, { origin: 'X', dest: 'Y', event_ts: 'bad' }],
    }));
    const results = await Promise.all([...events, events[5]!].map((ev) => g.ingest(ev)));
    expect(results.every((r) => r.accepted === 1 && r.quarantined === 1)).toBe(true);
    expect(await count('fv_route_stats')).toBe(20);
    expect(await count('_quarantine')).toBe(20);
    // One offline write statement per group (INSERT … WHERE NOT EXISTS on the ingest id): fewer than the 21 deliveries.
    const writes = spy.mock.calls.filter(([sql]) => /^INSERT INTO "main"\."fv_route_stats" /.test(String(sql))).length;
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(20); // the first event writes alone, the rest in larger groups
    const latest = await getOnlineFeatures({ online, repo, now: () => new Date(at(30)) }, { view: 'route_stats', entities: [0, 1, 2].map((i) => ({ origin: `O${i}`, dest: 'D' })), features: ['avg_delay'] });
    expect(latest.results[0]!.values).toEqual([18, 19, 17]);
  });

  it('fails every event of a failed group, and their redelivery stores each row once', async () => {
    const g = new GroupCommitIngestor({ warehouse: w, online, repo });
    const ev = (e: number) => ({ view: 'route_stats', sourceId: `f${e}`, createdAt: new Date(T0), rows: [{ origin: 'A', dest: 'B', event_ts: at(e) }] });
    const spy = vi.spyOn(w, 'execute').mockRejectedValueOnce(new TransientError('warehouse down'));
    const first = await Promise.allSettled([ev(1), ev(2), ev(3)].map((x) => g.ingest(x)));
    expect(first[0]!.status).toBe('rejected');
    spy.mockRestore();
    const retried = await Promise.allSettled([ev(1), ev(2), ev(3)].map((x) => g.ingest(x)));
    expect(retried.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await count('fv_route_stats')).toBe(3);
    await expect(g.ingest({ ...ev(9), view: 'nope' })).rejects.toThrow(/feature view "nope" is not defined/);
  });

  it("overlaps a group's warehouse write with the previous group's online write, and acknowledges each event after both", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let onlineCalls = 0;
    const gated: OnlineStore = new Proxy(online, {
      get: (t, k, r) => (k === 'write'
        ? async (...args: Parameters<OnlineStore['write']>) => { if (onlineCalls++ === 0) await gate; return t.write(...args); }
        : Reflect.get(t, k, r)),
    });
    const g = new GroupCommitIngestor({ warehouse: w, online: gated, repo });
    let secondStored!: () => void;
    const stored = new Promise<void>((r) => { secondStored = r; });
    const exec = w.execute.bind(w);
    let inserts = 0;
    vi.spyOn(w, 'execute').mockImplementation(async (sql, opts) => {
      const res = await exec(sql, opts);
      if (/^INSERT INTO .*fv_route_stats/.test(sql) && ++inserts === 2) secondStored();
      return res;
    });
    const ev = (e: number) => ({ view: 'route_stats', sourceId: `p${e}`, createdAt: new Date(T0), rows: [{ origin: 'A', dest: 'B', event_ts: at(e) }] });
    const settled: string[] = [];
    const a = g.ingest(ev(1)).then(() => settled.push('a'));
    const b = g.ingest(ev(2)).then(() => settled.push('b'));
    // The second group's warehouse write completes while the first group's online write is still held.
    await stored;
    expect(await count('fv_route_stats')).toBe(2);
    expect(settled).toEqual([]);
    release();
    await Promise.all([a, b]);
    expect(settled).toEqual(['a', 'b']);
  });
});
