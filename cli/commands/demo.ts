import type { Command } from 'commander';
import { integerIn } from '../options.js';

/** The most rows one feature-rows event may carry (`featureRowsData` in shared/events/catalog.ts). */
export const MAX_EVENT_ROWS = 10_000;

/**
 * The main job (`npm start`): the continuous-training loop on real flights (Jan–Jun 2001) replayed in simulated
 * time — feature events and files through the functions week by week, a first model trained, evaluated and
 * registered, then weekly drift checks fired by the scheduler on the simulated clock, a drift-triggered retrain and
 * the gate's verdict. Stages: shared/demo/stages.ts.
 */
export interface DemoCliOptions {
  quick?: boolean;
  flightRows?: number;
  batch: number;
  scenario: boolean;
  schedules: string;
  emulators?: boolean;
  /** Online-store emulator with --emulators: firestore (default) or bigtable. */
  online?: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('replay six months of real flights through the whole loop: features, training, evaluation, drift checks, retraining (what `npm start` runs)')
    .option('--quick', 'a small slice (fewer departures) that runs in about a minute, for tests')
    .option('--flight-rows <n>', 'departures replayed, sampled from the 3M (1000 to 3000000; default 300000, 40000 with --quick)', integerIn(1000, 3_000_000))
    .option('--batch <n>', `rows per published feature event (1 to ${MAX_EVENT_ROWS}, the most one event carries)`, integerIn(1, MAX_EVENT_ROWS), MAX_EVENT_ROWS)
    .option('--no-scenario', 'replay only the real data (no injected schedule change; real weekly drift is too mild to trigger a retrain)')
    .option('--emulators', 'run over the local emulators: every event a real Pub/Sub message pushed to the functions under functions-framework, objects on the Cloud Storage emulator, online values on the Firestore emulator (what `ctloop up --emulators` starts)')
    .option('--online <store>', 'with --emulators: the online-store emulator, firestore or bigtable (default: firestore)')
    .option('--schedules <file>', 'schedule plan of the drift checks (format of infra/schedules.json)', 'examples/flights/schedules.json')
    .action(async (opts: DemoCliOptions, cmd: Command) => {
      await (await import('./demo-action.js')).runDemo(opts, cmd);
    });
}
