import type { Command } from 'commander';
import { integerIn } from '../options.js';

/**
 * `ctloop run`: the loop as a long-running process — every function subscribed to its topic on the configured bus
 * (in-process or Pub/Sub), and the scheduler jobs Terraform would create run from a local timer.
 */
export function register(program: Command): void {
  program
    .command('run')
    .description('run the functions and the scheduler jobs in this process until interrupted (embedded or emulators mode)')
    .option('--schedules <path>', 'scheduler plan (the same file Terraform jobs come from)', 'infra/schedules.json')
    .option('--fire <job...>', 'publish these scheduler jobs once at start (e.g. ctloop-drift-check-route-daily)')
    // Node timers hold at most 2^31-1 ms; a longer delay would fire at once.
    .option('--for <seconds>', 'stop after this many seconds, 1 to 2147483 (default: run until SIGINT/SIGTERM)', integerIn(1, 2_147_483))
    .action(async (opts: { schedules: string; fire?: string[]; for?: number }, cmd: Command) => {
      await (await import('./run-action.js')).runLoop(opts, cmd);
    });
}
