import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { FirestoreOnlineStore } from '../../shared/adapters/online-store/firestore/index.js';
import type { EmulatorProcess } from '../helpers/emulator-process.js';
import { firestoreEmulatorUnavailable, startFirestoreEmulator } from '../helpers/firestore-emulator.js';
import { runOnlineStoreContract } from './online-store.contract.js';

// The Firestore adapter against Google's emulator (one emulator for this file; each test its own collections).
// Skips with the reason when gcloud, the emulator component or java is missing.
const unavailable = firestoreEmulatorUnavailable();
if (unavailable) console.warn(`[online-store.firestore] skipping the Firestore contract: ${unavailable}`);

let emulator: EmulatorProcess | null = null;
beforeAll(async () => {
  if (unavailable) return;
  process.env.METADATA_SERVER_DETECTION = 'none';
  emulator = await startFirestoreEmulator();
  console.info(`[online-store.firestore] emulator ready on ${emulator?.host} in ${emulator?.startupMs} ms`);
});
afterAll(async () => {
  await emulator?.stop();
});

runOnlineStoreContract('firestore (emulator)', async () => {
  const opts = { project: 'ctloop-contract', database: '(default)', emulatorHost: emulator!.host, collectionPrefix: `t${randomUUID().slice(0, 8)}_` };
  return { store: new FirestoreOnlineStore(opts), reopen: async () => new FirestoreOnlineStore(opts) };
}, { skipReason: unavailable });
