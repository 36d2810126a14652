import { Command, CommanderError } from 'commander';
import { describeError, CtloopError } from '../shared/errors.js';
import { registerCommands } from './commands/index.js';
import { setLogThreshold } from '../shared/runtime/log.js';
import { formatOf } from './context.js';

/** Entry point of the `ctloop` CLI. Returns the exit code (0 ok, 1 error, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  // `ctloop … | head` closes stdout early: exit quietly instead of crashing on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = new Command('ctloop')
    .description('Continuous-training loop for Google Cloud: feature store, drift, training, validation, deploy')
    .option('--format <format>', 'output format: text or json', 'text')
    .showHelpAfterError('(run with --help for usage)')
    .option('--verbose', 'also print the structured logs of the functions run in this process')
    .exitOverride();
  program.hook('preAction', (_root, cmd) => {
    formatOf(cmd); // reject a bad --format before doing any work
    setLogThreshold(cmd.optsWithGlobals().verbose ? 'info' : 'error');
  });
  registerCommands(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2;
    }
    const json = program.opts().format === 'json' || argv.includes('--format=json') || argv.join(' ').includes('--format json');
    if (json) process.stderr.write(`${JSON.stringify(err instanceof CtloopError ? err.toJSON() : { error: 'INTERNAL', message: String(err) })}\n`);
    else process.stderr.write(`error: ${describeError(err)}\n`);
    if (!(err instanceof CtloopError) && process.env.CTLOOP_DEBUG) console.error(err);
    return 1;
  }
}
