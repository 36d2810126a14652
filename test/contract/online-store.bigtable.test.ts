import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { BigtableOnlineStore } from '../../shared/adapters/online-store/bigtable/index.js';
import { bigtableEmulatorUnavailable, startBigtableEmulator } from '../helpers/bigtable-emulator.js';
import type { EmulatorProcess } from '../helpers/emulator-process.js';
import { runOnlineStoreContract } from './online-store.contract.js';

// The Bigtable adapter against Google's emulator (one emulator for this file; each test its own table).
// Skips with the reason when gcloud or the emulator component is missing.
const unavailable = bigtableEmulatorUnavailable();
if (unavailable) console.warn(`[online-store.bigtable] skipping the Bigtable contract: ${unavailable}`);

let emulator: EmulatorProcess | null = null;
beforeAll(async () => {
  if (unavailable) return;
  process.env.METADATA_SERVER_DETECTION = 'none';
  emulator = await startBigtableEmulator();
  console.info(`[online-store.bigtable] emulator ready on ${emulator?.host} in ${emulator?.startupMs} ms`);
});
afterAll(async () => {
  await emulator?.stop();
});

runOnlineStoreContract('bigtable (emulator)', async () => {
  const opts = { project: 'ctloop-contract', instance: 'ctloop', table: `t_${randomUUID().slice(0, 8)}`, emulatorHost: emulator!.host };
  return { store: new BigtableOnlineStore(opts), reopen: async () => new BigtableOnlineStore(opts) };
}, { skipReason: unavailable });
