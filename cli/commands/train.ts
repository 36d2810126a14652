import type { Command } from 'commander';
import { instant } from '../options.js';

/**
 * `ctloop train --model M [--wait]`: a manual training request, sent through the same event as a drift-triggered one
 * (`ctloop.training.requested.v1`), so it is deduplicated, recorded and launched by launch-training like any other.
 */
export function register(program: Command): void {
  program
    .command('train')
    .description('request training of a model (a manual training request through the loop\'s events); --wait for its result')
    .requiredOption('--model <name>', 'model of models.yaml, e.g. flight_delay')
    .option('--wait', 'wait for the run to end and print its state, metrics and evaluation (local runs always wait: the trainer runs in this process)')
    .option('--end <time>', 'end of the training data (the test split ends here); default: just after the latest labelled example', instant)
    .option('--request-id <id>', 'dedup key of the request (default: the model and the data end, so the same data trains once)')
    .action(async (opts: { model: string; wait?: boolean; end?: Date; requestId?: string }, cmd: Command) => {
      await (await import('./train-action.js')).runTrain(opts, cmd);
    });
}
