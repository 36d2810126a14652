import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../../shared/errors.js';
import { checkGenerated, renderFromSources, writeGenerated } from '../../shared/topology/files.js';

/**
 * `ctloop infra gen [--check]`: derive the GCP topology from the code (event catalog, function registry, feature
 * definitions, infra/schedules.json) and write infra/generated/ (topology.auto.tfvars.json + BigQuery schemas).
 * With --check nothing is written; the command fails when the checked-in files are stale (used by CI).
 */
export function register(program: Command): void {
  const infra = program.command('infra').description('Terraform inputs derived from the code (see infra/README.md)');
  infra
    .command('gen')
    .description('write infra/generated/ from the event catalog, function registry, feature definitions and schedules')
    .option('--check', 'do not write; exit 1 when the checked-in files are stale')
    .option('--features <path>', 'feature definitions file', 'features.yaml')
    .option('--schedules <path>', 'scheduler plan', 'infra/schedules.json')
    .option('--out <dir>', 'output directory', 'infra/generated')
    .action(async (opts: { check?: boolean; features: string; schedules: string; out: string }) => {
      const paths = { features: resolve(opts.features), schedules: resolve(opts.schedules), outDir: resolve(opts.out) };
      if (opts.check) {
        const stale = await checkGenerated(paths);
        if (stale.length > 0) {
          throw new ValidationError(`generated infrastructure is stale:\n  ${stale.join('\n  ')}`, {
            hint: 'run `ctloop infra gen` and commit infra/generated/',
            details: { stale },
          });
        }
        process.stdout.write(`infra/generated is up to date (${opts.out})\n`);
        return;
      }
      const files = await renderFromSources(paths);
      const { written, removed } = await writeGenerated(paths.outDir, files);
      for (const f of written) process.stdout.write(`wrote ${opts.out}/${f}\n`);
      for (const f of removed) process.stdout.write(`removed ${opts.out}/${f}\n`);
      if (written.length + removed.length === 0) process.stdout.write(`infra/generated is up to date (${opts.out})\n`);
    });
}
