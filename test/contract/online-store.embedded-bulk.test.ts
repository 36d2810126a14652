import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRecord } from '../../shared/adapters/online-store/codec.js';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import type { OnlineRecord } from '../../shared/ports/online-store.js';
import { contractRepo } from './online-store.contract.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** `writeEncoded` (the bulk write of a file load) has `write`'s outcome: newest wins per entity, within the batch and against what is held. */
describe('embedded online store: bulk write of encoded lines', () => {
  const view = contractRepo.view('driver_stats');
  const rec = (id: number, ms: number, rating: number, created = 0, ingest = `i${ms}`): OnlineRecord => ({ key: [id], eventTime: new Date(ms), createdTime: new Date(created), ingestId: ingest, values: { rating } });
  const line = (r: OnlineRecord) => JSON.stringify(encodeRecord(r));

  it('keeps the same records as write, skips lines no newer than held, and keeps them across a reopen', async () => {
    const batches: OnlineRecord[][] = [
      [rec(1, 1000, 1), rec(2, 1000, 2), rec(1, 3000, 3), rec(1, 2000, 4)],
      [rec(1, 2500, 5), rec(2, 1000, 6, 1), rec(3, 1000, Number.POSITIVE_INFINITY), rec(3, 1000, Number.NaN, 0, 'i1000b')],
      [rec(2, 1000, 7, 1, 'a'), rec(2, 1000, 8, 1, 'i1000')],
    ];
    const [a, b] = [await mkdtemp(join(tmpdir(), 'ctloop-bulk-')), await mkdtemp(join(tmpdir(), 'ctloop-bulk-'))];
    dirs.push(a, b);
    const viaWrite = await EmbeddedOnlineStore.open({ dir: a });
    const viaBulk = await EmbeddedOnlineStore.open({ dir: b });
    const keys = [[1], [2], [3], [4]];
    for (const batch of batches) {
      const w = await viaWrite.write(view, batch);
      const e = await viaBulk.writeEncoded(view, batch.map(line));
      expect(e.written).toBe(w.written);
      expect(await viaBulk.read(view, keys)).toEqual(await viaWrite.read(view, keys));
    }
    expect((await viaBulk.read(view, [[1]]))[0]!.values.rating).toBe(3);
    // Only each batch's winners were appended: 2 of the first, 2 of the second (entity 3 once), none of the third
    // (an ingest id sorting before the held one, and a redelivery of the held row).
    const logLines = (await readFile(join(b, 'driver_stats.jsonl'), 'utf8')).trim().split('\n');
    expect(logLines).toHaveLength(4);
    await viaWrite.close();
    await viaBulk.close();
    const [ra, rb] = [await EmbeddedOnlineStore.open({ dir: a, readOnly: true }), await EmbeddedOnlineStore.open({ dir: b, readOnly: true })];
    expect(await rb.read(view, keys)).toEqual(await ra.read(view, keys));
    await ra.close();
    await rb.close();
  });

  it('refuses a write on a read-only store', async () => {
    const d = await mkdtemp(join(tmpdir(), 'ctloop-bulk-'));
    dirs.push(d);
    const s = await EmbeddedOnlineStore.open({ dir: d, readOnly: true });
    await expect(s.writeEncoded(view, [line(rec(1, 1, 1))])).rejects.toThrow(/read-only/);
    await s.close();
  });
});
