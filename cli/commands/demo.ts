import type { Command } from 'commander';
import { integerIn } from '../options.js';

/** The most rows one feature-rows event may carry (`featureRowsData` in shared/events/catalog.ts). */
export const MAX_EVENT_ROWS = 10_000;

/**
 * The main job (`npm start`): the loop's feature-store stage on 3M real flights. Application events flow through
 * the event bus into the ingest function, a bulk file goes through the file-ready event, and a point-in-time
 * training set is built for the delay model. Runs in any mode (embedded by default; emulators or gcp by config).
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('run the feature-store stage of the loop on the flights data (what `npm start` runs)')
    .option('--spine-rows <n>', 'flights in the training spine (1 to 3000000; the data holds about 3M flights)', integerIn(1, 3_000_000), 200_000)
    .option('--batch <n>', `rows per published feature event (1 to ${MAX_EVENT_ROWS}, the most one event carries)`, integerIn(1, MAX_EVENT_ROWS), 500)
    .action(async (opts: { spineRows: number; batch: number }, cmd: Command) => {
      await (await import('./demo-action.js')).runDemo(opts, cmd);
    });
}
