import { afterAll, beforeAll } from 'vitest';
import { PubsubEventBus } from '../../shared/adapters/event-bus/pubsub/pubsub-bus.js';
import { clientEnv, pubsubEmulatorUnavailable, startPubsubEmulator, type PubsubEmulator } from '../helpers/pubsub-emulator.js';
import { runEventBusContract } from './event-bus.contract.js';

// The Pub/Sub adapter against Google's emulator (one emulator for this file). Skips with the reason when gcloud,
// the emulator component or java is missing.
const unavailable = pubsubEmulatorUnavailable();
if (unavailable) console.warn(`[event-bus.pubsub] skipping the Pub/Sub contract: ${unavailable}`);

let emulator: PubsubEmulator | null = null;
beforeAll(async () => {
  if (unavailable) return;
  Object.assign(process.env, clientEnv); // this test worker is the client
  emulator = await startPubsubEmulator();
  console.info(`[event-bus.pubsub] emulator ready on ${emulator?.host} in ${emulator?.startupMs} ms`);
});
afterAll(async () => {
  await emulator?.stop();
});

runEventBusContract(
  'pubsub',
  async (retry) => new PubsubEventBus({ project: 'ctloop-contract', emulatorHost: emulator!.host, retry, drainQuietMs: 500 }),
  { skip: unavailable },
);
