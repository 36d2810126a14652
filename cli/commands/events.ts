import { resolve } from 'node:path';
import type { Command } from 'commander';
import { packageInfo } from '../package-info.js';

/**
 * `ctloop events schema [--out DIR] [--check]`: the producer contract for other languages — a JSON Schema per event
 * (data and envelope) and an AsyncAPI 3 document — generated from the zod catalog into docs/events. With --check
 * nothing is written; the command fails when the checked-in files are stale (as `infra gen --check`).
 */
export function register(program: Command): void {
  const events = program.command('events').description('the event catalog for producers: JSON Schemas and an AsyncAPI document');
  events
    .command('schema')
    .description('write a JSON Schema per event (data and envelope) and asyncapi.yaml, generated from shared/events/catalog.ts')
    .option('--out <dir>', 'output directory', 'docs/events')
    .option('--check', 'do not write; exit 1 when the files in --out are stale')
    .action(async (opts: { out: string; check?: boolean }) => {
      const [{ ValidationError }, { renderEventDocs }, { checkEventDocs, writeEventDocs }] = await Promise.all([
        import('../../shared/errors.js'), import('../../shared/events/schema.js'), import('../../shared/events/schema-files.js'),
      ]);
      const pkg = packageInfo();
      const files = renderEventDocs({ version: pkg.version });
      const dir = resolve(opts.out);
      if (opts.check) {
        const stale = await checkEventDocs(dir, files);
        if (stale.length > 0) {
          throw new ValidationError(`event schemas are stale:\n  ${stale.join('\n  ')}`, {
            hint: 'run `ctloop events schema` and commit docs/events/', details: { stale },
          });
        }
        process.stdout.write(`event schemas are up to date (${opts.out})\n`);
        return;
      }
      const { written, removed } = await writeEventDocs(dir, files).catch((err: NodeJS.ErrnoException) => {
        throw new ValidationError(`cannot write the event schemas to --out ${opts.out}: ${err.message}`, { hint: 'choose a directory you can write (default docs/events)', cause: err });
      });
      for (const f of written) process.stdout.write(`wrote ${opts.out}/${f}\n`);
      for (const f of removed) process.stdout.write(`removed ${opts.out}/${f}\n`);
      if (written.length + removed.length === 0) process.stdout.write(`event schemas are up to date (${opts.out})\n`);
    });
}
