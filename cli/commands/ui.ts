import type { Command } from 'commander';
import { integerIn } from '../options.js';

/** `ctloop ui [--port N]`: the report served on 127.0.0.1 until interrupted. */
export function register(program: Command): void {
  program
    .command('ui')
    .description('serve the report on 127.0.0.1 (rebuilt on every reload) until interrupted')
    .option('--port <port>', 'port on 127.0.0.1 (0 = any free port)', integerIn(0, 65_535), 8750)
    .action(async (opts: { port: number }, cmd: Command) => {
      const [{ output, withRuntime }, { buildReport }, { serveReport }] = await Promise.all([import('../context.js'), import('./report-build.js'), import('../../shared/report/server.js')]);
      // A runtime per page load: between loads the state (DuckDB file) is not held, so the loop can keep writing.
      await withRuntime(async () => undefined, { readOnly: true }); // fail now, not on the first load, if the state cannot be read
      const srv = await serveReport(() => withRuntime(async (rt) => (await buildReport(rt)).html, { readOnly: true }), { port: opts.port });
      output(cmd, { url: srv.url }, () => `serving the report at ${srv.url} (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await srv.close();
    });
}
