import type { Command } from 'commander';

/** `ctloop report [--out F]`: the self-contained HTML report (shared/report). */
export function register(program: Command): void {
  program
    .command('report')
    .description('write the loop\'s report: one self-contained HTML page with plots (drift per feature, metrics per version and slice, canary, live performance, lineage)')
    .option('--out <file>', 'where to write the page', 'report.html')
    .action(async (opts: { out: string }, cmd: Command) => {
      const [{ writeFile }, { resolve }, { output, withRuntime }, { buildReport }] = await Promise.all([
        import('node:fs/promises'), import('node:path'), import('../context.js'), import('./report-build.js'),
      ]);
      await withRuntime(async (rt) => {
        const { html, data } = await buildReport(rt);
        const out = resolve(opts.out);
        await writeFile(out, html);
        const counts = { driftPoints: data.drift.length, versions: new Set(data.metrics.map((m) => m.label)).size, slicePoints: data.slices.length, canary: data.canary?.length ?? null, live: data.live?.length ?? null, lineage: data.lineage.length };
        output(cmd, { out, bytes: Buffer.byteLength(html), ...counts }, () =>
          `wrote ${out} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KB): ${counts.driftPoints} drift points, ${counts.versions} model versions, ${counts.slicePoints} slice points, ${counts.lineage} lineage events; canary and live: ${counts.canary === null ? 'no deployments yet' : `${counts.canary} and ${counts.live ?? 0} points`}`);
      }, { readOnly: true });
    });
}
