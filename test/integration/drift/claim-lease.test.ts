import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import { claimTrainingRequest } from '../../../shared/drift/policy.js';
import type { Row, Warehouse } from '../../../shared/ports/warehouse.js';

/**
 * BigQuery runs up to two mutating DML statements on a table at once and only detects conflicts on rows it
 * modifies: two MERGEs that both match nothing both insert. This double of such a ledger (every claim's MERGE
 * inserts its own row) shows that the write-once leases alone keep "two concurrent triggers → one request".
 */
function nonSerialisingLedger(real: Warehouse): Warehouse {
  const rows: Row[] = [];
  return {
    ...real,
    dialect: real.dialect,
    getTable: real.getTable.bind(real),
    createTable: real.createTable.bind(real),
    execute: async (sql, opts) => {
      if (/^MERGE/.test(sql.trim())) {
        const p = opts!.params!;
        rows.push({ dedup_key: p.k!.value as string, trigger_id: p.tid!.value as string, event_id: p.eid!.value as string, published_at: null });
        return { affectedRows: 1 };
      }
      return { affectedRows: 0 };
    },
    query: async (_sql, opts) => rows.filter((r) => r.dedup_key === opts!.params!.k!.value && r.trigger_id === opts!.params!.tid!.value),
  };
}

describe('training-request claim leases', () => {
  let dir: string;
  let real: Warehouse;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-lease-'));
    real = await createDuckDbWarehouse({ path: ':memory:' });
  });
  afterAll(async () => {
    await real.close();
    await rm(dir, { recursive: true, force: true });
  });

  const window = { start: '2001-03-01T00:00:00.000Z', end: '2001-03-02T00:00:00.000Z' };
  const now = new Date('2001-03-02T06:00:00Z');

  it('without leases a non-serialising ledger lets both triggers publish (the failure mode)', async () => {
    const w = nonSerialisingLedger(real);
    const claims = await Promise.all(['t1', 't2'].map((tid) => claimTrainingRequest(w, { model: 'm0', window, reportId: 'r', triggerId: tid, now, cooldownSeconds: 3600 })));
    expect(claims.filter((c) => c.publish)).toHaveLength(2);
  });

  it('with leases exactly one of two concurrent triggers publishes; its redelivery keeps the claim', async () => {
    const w = nonSerialisingLedger(real);
    const leases = { store: new LocalObjectStore(join(dir, 'objects')), bucket: 'lease-bucket' };
    const claims = await Promise.all(['t1', 't2'].map((tid) => claimTrainingRequest(w, { model: 'm1', window, reportId: 'r', triggerId: tid, now, cooldownSeconds: 3600 }, leases)));
    expect(claims.filter((c) => c.publish)).toHaveLength(1);
    const winner = claims[0]!.publish ? 't1' : 't2';
    const again = await claimTrainingRequest(w, { model: 'm1', window, reportId: 'r', triggerId: winner, now, cooldownSeconds: 3600 }, leases);
    expect(again.publish).toBe(true);
    // Another window of the same model inside the cooldown period: refused by the cooldown lease.
    const other = await claimTrainingRequest(w, { model: 'm1', window: { start: window.end, end: '2001-03-03T00:00:00.000Z' }, reportId: 'r2', triggerId: 't3', now, cooldownSeconds: 3600 }, leases);
    expect(other.publish).toBe(false);
  });
});
