import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError, ValidationError } from '../../shared/errors.js';
import { estimateMerge, estimateStreaming, type CostEstimate } from '../../shared/cost/estimate.js';
import { PRICES_AS_OF } from '../../shared/cost/prices.js';
import { loadFeatureRepo, offlineColumns } from '../../shared/features/definitions.js';
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
  infra
    .command('cost')
    .description('monthly cost of feature ingestion at an event rate: streaming design (Storage Write API) vs the MERGE design')
    .requiredOption('--events-per-second <n>', 'feature-row events published per second')
    .option('--rows-per-event <r>', 'rows in each event', '1')
    .option('--entities <n>', 'distinct entities (online table size in the MERGE design)', '100000')
    .option('--view <name>', 'feature view whose table spec sizes the rows (default: the widest)')
    .option('--features <path>', 'feature definitions file', 'features.yaml')
    .action(async (opts: { eventsPerSecond: string; rowsPerEvent: string; entities: string; view?: string; features: string }) => {
      const num = (flag: string, v: string, max: number) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0 || n > max) throw new UsageError(`${flag} must be a number above 0 and at most ${max.toLocaleString('en-US')}, got ${JSON.stringify(v)}`, { hint: `e.g. ${flag} 1000` });
        return n;
      };
      const eventsPerSecond = num('--events-per-second', opts.eventsPerSecond, 10_000_000);
      const rowsPerEvent = num('--rows-per-event', opts.rowsPerEvent, 10_000);
      const entities = num('--entities', opts.entities, 1e12);
      const repo = await loadFeatureRepo(resolve(opts.features));
      const views = opts.view ? [repo.view(opts.view)] : repo.views;
      const view = [...views].sort((a, b) => offlineColumns(b).length - offlineColumns(a).length)[0];
      if (!view) throw new ValidationError(`${opts.features} defines no feature views`, { hint: 'define a feature view first' });
      const input = { eventsPerSecond, rowsPerEvent, entities, columns: offlineColumns(view) };
      const s = estimateStreaming(input);
      const m = estimateMerge(input);
      const out = process.stdout;
      out.write(`Monthly estimate for ${eventsPerSecond.toLocaleString('en-US')} events/s × ${rowsPerEvent} row(s), view ${view.name} (list prices of ${PRICES_AS_OF}, shared/cost/prices.ts; no free tiers)\n`);
      const show = (e: CostEstimate, title: string) => {
        out.write(`\n${title}\n`);
        for (const l of e.lines) out.write(`  ${l.item.padEnd(48)} ${usd(l.usd).padStart(14)}   ${l.note}\n`);
        out.write(`  ${'total'.padEnd(48)} ${usd(e.totalUsd).padStart(14)}\n`);
        for (const w of e.warnings) out.write(`  warning: ${w}\n`);
      };
      show(s, 'streaming design (Storage Write API default stream + daily compaction)');
      show(m, 'MERGE design (one offline INSERT + one online MERGE per group-commit batch)');
      out.write(`\nthe streaming design saves ${usd(m.totalUsd - s.totalUsd)} a month (${(m.totalUsd / Math.max(s.totalUsd, 1e-9)).toFixed(1)}× cheaper)\n`);
    });
}

function usd(n: number): string {
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
