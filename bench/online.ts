import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BigtableOnlineStore } from '../shared/adapters/online-store/bigtable/index.js';
import { EmbeddedOnlineStore } from '../shared/adapters/online-store/embedded/index.js';
import { FirestoreOnlineStore } from '../shared/adapters/online-store/firestore/index.js';
import { parseFeatureRepo } from '../shared/features/definitions.js';
import { getOnlineFeatures } from '../shared/features/online.js';
import type { OnlineRecord, OnlineStore } from '../shared/ports/online-store.js';
import { startBigtableEmulator } from '../test/helpers/bigtable-emulator.js';
import type { EmulatorProcess } from '../test/helpers/emulator-process.js';
import { startFirestoreEmulator } from '../test/helpers/firestore-emulator.js';
import { line, median } from './util.js';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const repo = parseFeatureRepo({
  entities: [{ name: 'user', joinKeys: [{ name: 'user_id', type: 'STRING' }] }],
  featureViews: [{ name: 'user_stats', entity: 'user', timestampField: 'ts', ttl: '30d', features: Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, type: 'FLOAT64' as const })) }],
});
const view = repo.view('user_stats');

export interface OnlineBenchOptions {
  /** Entities in the embedded store (the goal is stated for 100k) and in each emulator. */
  entities: number;
  emulatorEntities: number;
  /** Versions written per entity (embedded); the emulators get one. */
  rowsPerEntity: number;
  lookups: number;
}

/**
 * Online store latency and write throughput per adapter: p50/p99 of `getOnlineFeatures` (the whole serving path:
 * key coercion, one batched store read, statuses and ttl) for 1 key and for 100 keys × 10 features, and records
 * written per second through `OnlineStore.write` in batches of 1,000 (newest-wins checks included). Firestore and
 * Bigtable run against Google's emulators on this machine: their figures are labelled as such and say nothing of
 * cloud latency (a network round trip to Firestore or Bigtable is typically milliseconds).
 */
export async function runOnlineBench(opts: OnlineBenchOptions): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-bench-online-'));
  try {
    const embedded = await EmbeddedOnlineStore.open({ dir });
    Object.assign(out, await measure('embedded (in-process index + log)', embedded, opts.entities, opts.rowsPerEntity, opts.lookups));
    await embedded.close();
    const reopenT = performance.now();
    const reopened = await EmbeddedOnlineStore.open({ dir, readOnly: true });
    await reopened.read(view, [['u0']]);
    line('embedded: reopen and load the view (read-only)', `${(performance.now() - reopenT).toFixed(0)} ms`);
    await reopened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  for (const [label, start, make] of [
    ['firestore (EMULATOR)', startFirestoreEmulator, (host: string) => new FirestoreOnlineStore({ project: 'ctloop-bench', database: '(default)', emulatorHost: host })],
    ['bigtable (EMULATOR)', startBigtableEmulator, (host: string) => new BigtableOnlineStore({ project: 'ctloop-bench', instance: 'ctloop', table: 'bench', emulatorHost: host })],
  ] as const) {
    const emu: EmulatorProcess | null = await start();
    if (!emu) {
      console.log(`\n${label}: emulator not available here, skipped`);
      continue;
    }
    const store = make(emu.host);
    try {
      Object.assign(out, await measure(label, store, opts.emulatorEntities, 1, Math.min(opts.lookups, 500)));
    } finally {
      await store.close();
      await emu.stop();
    }
  }
  return out;
}

async function measure(label: string, store: OnlineStore, entities: number, rowsPerEntity: number, lookups: number): Promise<Record<string, number>> {
  // Event times near the wall clock: Bigtable's GC (max age = ttl) would collect older cells.
  const t0 = Date.now() - 3_600_000;
  const total = entities * rowsPerEntity;
  const wT = performance.now();
  for (let start = 0; start < total; start += 1000) {
    const batch: OnlineRecord[] = [];
    for (let i = start; i < Math.min(total, start + 1000); i++) {
      const values: OnlineRecord['values'] = {};
      for (let k = 0; k < 10; k++) values[`f${k}`] = (i * (k + 1)) % 1000;
      batch.push({ key: [`u${i % entities}`], eventTime: new Date(t0 + i), createdTime: new Date(t0), ingestId: `b:${i}`, values });
    }
    await store.write(view, batch);
  }
  const writeS = (performance.now() - wT) / 1000;
  const now = () => new Date(t0 + total + 1000);
  const one: number[] = [];
  const hundred: number[] = [];
  for (let i = 0; i < lookups; i++) {
    const k = `u${(i * 7919) % entities}`;
    let t = performance.now();
    const r = await getOnlineFeatures({ online: store, repo, now }, { view: 'user_stats', entities: [{ user_id: k }] });
    one.push(performance.now() - t);
    if (r.results[0]!.statuses[0] !== 'PRESENT') throw new Error(`${label}: lookup of ${k} returned ${r.results[0]!.statuses[0]}`);
    const many = Array.from({ length: 100 }, (_, j) => ({ user_id: `u${(i * 7919 + j * 104729) % entities}` }));
    t = performance.now();
    const rs = await getOnlineFeatures({ online: store, repo, now }, { view: 'user_stats', entities: many });
    hundred.push(performance.now() - t);
    if (rs.results[9]!.statuses.some((s) => s !== 'PRESENT')) throw new Error(`${label}: a 100-key lookup missed keys`);
  }
  console.log(`\nonline store: ${label}; ${entities.toLocaleString('en-US')} entities × 10 features, ${total.toLocaleString('en-US')} records written, ${lookups} lookups`);
  line('1 key   p50 / p99', `${median(one).toFixed(3)} ms / ${pct(one, 99).toFixed(3)} ms`);
  line('100 keys p50 / p99', `${median(hundred).toFixed(3)} ms / ${pct(hundred, 99).toFixed(3)} ms`);
  line('write throughput (batches of 1,000)', `${Math.round(total / writeS).toLocaleString('en-US')} records/s`);
  const id = label.split(' ')[0]!;
  return { [`${id}P50`]: median(one), [`${id}P99`]: pct(one, 99), [`${id}P50x100`]: median(hundred), [`${id}P99x100`]: pct(hundred, 99), [`${id}WritesPerS`]: total / writeS };
}
