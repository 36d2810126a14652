import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TransientError } from '../../shared/errors.js';
import { GroupCommitIngestor } from '../../shared/features/group-commit.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { duckStore, testRepo } from '../helpers/feature-fixtures.js';

const repo = testRepo();
const T0 = Date.parse('2001-03-01T00:00:00Z');
const at = (m: number) => new Date(T0 + m * 60_000).toISOString();
const ev = (id: string, m: number, extra: unknown[] = []) => ({ view: 'route_stats', sourceId: id, createdAt: new Date(T0), rows: [{ origin: `O${m}`, dest: 'D', event_ts: at(m), avg_delay: m }, ...extra] });

/** Group commit with thousands of events waiting: groups by size, duplicates, failures and bad rows per group. */
describe('group commit groups', () => {
  let w: Warehouse;
  let online: OnlineStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ warehouse: w, online, cleanup } = await duckStore()));
  afterEach(() => cleanup());
  const count = async (t: string) => Number((await w.query(`SELECT COUNT(*) AS n FROM ${w.dialect.table(t)}`))[0]!.n);
  const offlineInserts = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.filter(([sql]) => /^INSERT INTO "main"\."fv_route_stats" /.test(String(sql))).length;

  it('splits a long queue into groups of at most maxRows, and stores every row once, duplicates within and across groups included', async () => {
    const g = new GroupCommitIngestor({ warehouse: w, online, repo }, { maxRows: 100 });
    const spy = vi.spyOn(w, 'execute');
    const events = Array.from({ length: 1_000 }, (_, e) => ev(`e${e}`, e));
    // Every 10th event twice at once (the same group or the next), and the first 50 again after they were stored.
    const first = await Promise.all([...events, ...events.filter((_, i) => i % 10 === 0)].map((x) => g.ingest(x)));
    expect(first.every((r) => r.accepted === 1)).toBe(true);
    const again = await Promise.all(events.slice(0, 50).map((x) => g.ingest(x)));
    expect(again.every((r) => r.accepted === 1)).toBe(true);
    expect(await count('fv_route_stats')).toBe(1_000);
    // 1,100 rows in groups of ≤ 100 rows: at least 11 statements, far fewer than 1,100 events; then the redelivery.
    expect(offlineInserts(spy)).toBeGreaterThanOrEqual(11 + 1);
    expect(offlineInserts(spy)).toBeLessThan(100);
    const stored = await w.query(`SELECT COUNT(DISTINCT _ingest_id) AS n FROM ${w.dialect.table('fv_route_stats')}`);
    expect(Number(stored[0]!.n)).toBe(1_000);
  });

  it('fails every event of a group whose write fails and stores none of its rows, while other groups commit', async () => {
    const g = new GroupCommitIngestor({ warehouse: w, online, repo });
    const exec = w.execute.bind(w);
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let inserts = 0;
    vi.spyOn(w, 'execute').mockImplementation(async (sql, opts) => {
      if (/^INSERT INTO .*fv_route_stats/.test(sql)) {
        inserts++;
        if (inserts === 1) await gate; // hold the first group so the next events form one group behind it
        if (inserts === 2) throw new TransientError('warehouse down');
      }
      return exec(sql, opts);
    });
    const a = g.ingest(ev('a', 0));
    const rest = Promise.allSettled(['b', 'c', 'd', 'e'].map((id, i) => g.ingest(ev(id, i + 1))));
    release();
    await expect(a).resolves.toMatchObject({ accepted: 1 });
    const settled = await rest;
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(await count('fv_route_stats')).toBe(1);
    // Their redelivery stores each once.
    await Promise.all(['b', 'c', 'd', 'e'].map((id, i) => g.ingest(ev(id, i + 1))));
    expect(await count('fv_route_stats')).toBe(5);
  });

  it('writes a group of more events than a spread call takes arguments (200,000 one-row events)', async () => {
    // An appending engine and a no-op online store: this is about the group's bookkeeping, not the stores.
    const appended: number[] = [];
    const appending = { appendRows: async (_t: string, _c: unknown, rows: unknown[]) => { appended.push(rows.length); } } as unknown as Warehouse;
    const none = { kind: 'embedded', write: async () => ({ written: 0, superseded: 0 }), read: async () => [], close: async () => undefined } as unknown as OnlineStore;
    const g = new GroupCommitIngestor({ warehouse: appending, online: none, repo }, { maxRows: 1_000_000 });
    const all = Array.from({ length: 200_000 }, (_, e) => g.ingest(ev(`s${e}`, e % 1_000)));
    const results = await Promise.all(all);
    expect(results.every((r) => r.accepted === 1)).toBe(true);
    expect(appended.reduce((a, b) => a + b, 0)).toBe(200_000);
  });

  it('quarantines a bad row of one event with its reason and stores the other rows of the group', async () => {
    const g = new GroupCommitIngestor({ warehouse: w, online, repo });
    const results = await Promise.all([
      g.ingest(ev('g1', 1)),
      g.ingest(ev('g2', 2, [{ origin: 'X', dest: 'Y', event_ts: '2001-02-30T00:00:00Z' }])),
      g.ingest(ev('g3', 3, [{ origin: '', dest: 'Y', event_ts: at(3) }])),
    ]);
    expect(results.map((r) => [r.accepted, r.quarantined])).toEqual([[1, 0], [1, 1], [1, 1]]);
    expect(await count('fv_route_stats')).toBe(3);
    const q = await w.query(`SELECT ingest_id, reason FROM ${w.dialect.table('_quarantine')} ORDER BY ingest_id`);
    expect(q.map((r) => r.ingest_id)).toEqual(['g2:1', 'g3:1']);
    expect(String(q[0]!.reason)).toMatch(/event_ts: impossible timestamp "2001-02-30T00:00:00Z"/);
    expect(String(q[1]!.reason)).toMatch(/origin: join key is required/);
  });
});
