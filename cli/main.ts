import { Command, CommanderError, Option } from 'commander';
import { describeError, CtloopError, UsageError } from '../shared/errors.js';
import { registerCommands } from './commands/index.js';
import { setLogThreshold } from '../shared/runtime/log.js';

/** Exit codes: 0 ok, 1 the command failed, 2 the command line is wrong (README "The CLI"). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Entry point of the `ctloop` CLI. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  // `ctloop … | head` closes stdout early: exit quietly instead of crashing on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // Decided before parsing, so that even an error in parsing is reported as JSON (nothing on stdout).
  const json = wantsJson(argv);
  const program = new Command('ctloop')
    .description('Continuous-training loop for Google Cloud: feature store, drift, training, validation, deploy')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--verbose', 'also print the structured logs of the functions run in this process')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', '\nExit status: 0 done, 1 the command failed (the error says why and how to fix it), 2 usage error.\nWith --format json, results are JSON on stdout and errors one JSON object on stderr.')
    .exitOverride();
  // Settings are copied to subcommands when they are created, so this must come before registering them.
  if (json) program.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  program.hook('preAction', (_root, cmd) => {
    setLogThreshold(cmd.optsWithGlobals().verbose ? 'info' : 'error');
  });
  try {
    await registerCommands(program, argv);
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.ok;
      // Text mode: commander has already printed the error and the pointer to --help.
      if (json) report(true, usageErrorOf(err, program, argv));
      return EXIT.usage;
    }
    report(json, err);
    if (!(err instanceof CtloopError) && process.env.CTLOOP_DEBUG) console.error(err);
    return err instanceof UsageError ? EXIT.usage : EXIT.failed;
  }
}

function report(json: boolean, err: unknown): void {
  if (json) process.stderr.write(`${JSON.stringify(err instanceof CtloopError ? err.toJSON() : { error: 'INTERNAL', message: String(err) })}\n`);
  else process.stderr.write(`error: ${describeError(err)}\n`);
}

/** `--format json` or `--format=json` anywhere before a `--` (commander accepts global options after subcommands). */
export function wantsJson(argv: string[]): boolean {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return false;
    if (a === '--format=json' || (a === '--format' && argv[i + 1] === 'json')) return true;
  }
  return false;
}

function usageErrorOf(err: CommanderError, program: Command, argv: string[]): UsageError {
  const path = commandPath(program, argv);
  const message = err.code === 'commander.help'
    ? `${path.join(' ')} needs a command: ${commandNamed(program, path).commands.map((c) => c.name()).join(', ')}`
    : err.message.replace(/^error: /, '');
  return new UsageError(message, { hint: `run \`${path.join(' ')} --help\` for usage`, details: { commander: err.code } });
}

/** The command a command line reaches (`ctloop features online`), for the hint of a usage error. */
function commandPath(program: Command, argv: string[]): string[] {
  const path = [program.name()];
  let cmd = program;
  for (const a of argv.slice(2)) {
    if (a === '--') break;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (sub) {
      cmd = sub;
      path.push(sub.name());
    }
  }
  return path;
}

function commandNamed(program: Command, path: string[]): Command {
  let cmd = program;
  for (const name of path.slice(1)) cmd = cmd.commands.find((c) => c.name() === name) ?? cmd;
  return cmd;
}
