import type { Command } from 'commander';
import { integerIn } from '../options.js';

/**
 * `ctloop up --emulators` (`npm run emulators`): Google's Pub/Sub emulator, the Cloud Storage emulator and the online
 * store's emulator, every function under functions-framework on its own port fed by push subscriptions (dead-letter
 * topics and retry policies from the registry Terraform uses), and the scheduler jobs publishing to Pub/Sub, until
 * Ctrl-C/SIGTERM. See emulators/README.md.
 */
export function register(program: Command): void {
  const port = integerIn(0, 65535);
  program
    .command('up')
    .description('start the emulators and serve every function under functions-framework with push subscriptions, until interrupted (npm run emulators)')
    .option('--emulators', 'run on the local emulators (Pub/Sub, Cloud Storage, Firestore or Bigtable); the only target today')
    .option('--online <store>', 'online-store emulator: firestore or bigtable', 'firestore')
    .option('--pubsub-port <n>', 'Pub/Sub emulator port (default $PUBSUB_PORT or 8085; 0 = a free port)', port)
    .option('--storage-port <n>', 'Cloud Storage emulator port (default $STORAGE_PORT or 9199; 0 = a free port)', port)
    .option('--firestore-port <n>', 'Firestore emulator port (default $FIRESTORE_PORT or 8086; 0 = a free port)', port)
    .option('--bigtable-port <n>', 'Bigtable emulator port (default $BIGTABLE_PORT or 8087; 0 = a free port)', port)
    .option('--functions-port <n>', 'first function port, one port per function (default $CTLOOP_FUNCTIONS_PORT or 8090; 0 = free ports)', port)
    .option('--schedules <path>', 'scheduler plan (the same file Terraform jobs come from)', 'infra/schedules.json')
    .option('--for <seconds>', 'stop after this many seconds, 1 to 2147483 (default: until SIGINT/SIGTERM)', integerIn(1, 2_147_483))
    .action(async (opts: UpOptions, cmd: Command) => {
      await (await import('./up-action.js')).runUp(opts, cmd);
    });
}

export interface UpOptions {
  emulators?: boolean;
  online: string;
  pubsubPort?: number;
  storagePort?: number;
  firestorePort?: number;
  bigtablePort?: number;
  functionsPort?: number;
  schedules: string;
  for?: number;
}
