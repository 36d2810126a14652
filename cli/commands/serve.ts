import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { checkModelName } from '../../shared/adapters/model-registry/checks.js';
import { ValidationError } from '../../shared/errors.js';
import { DEFAULT_BODY_LIMIT, startPredictServer } from '../../shared/serving/http.js';
import { openLocalServing } from '../../shared/serving/local-serving.js';
import { integerIn } from '../options.js';
import { output, progress, withRuntime } from '../context.js';

/** An API key from a file (never from the command line, where other users' `ps` would show it). */
export async function readApiKey(path: string | undefined): Promise<string | null> {
  if (path === undefined) return null;
  const key = (await readFile(path, 'utf8').catch((err: Error) => { throw new ValidationError(`cannot read --api-key-file ${path}: ${err.message}`, { hint: 'give a file holding the key on one line' }); })).trim();
  if (key.length < 16) throw new ValidationError(`the API key in ${path} is ${key.length} characters long`, { hint: 'use at least 16 random characters, e.g. openssl rand -hex 24 > key' });
  return key;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve POST /predict on 127.0.0.1: online features, model servers, serving log (until interrupted)')
    .option('--port <port>', 'port, 0 to 65535 (0 = any free port)', integerIn(0, 65_535), 8080)
    .option('--model <name...>', 'models to serve (default: every model with the version below)')
    .option('--version <ref>', 'version number or alias of each model', 'champion')
    .option('--api-key-file <path>', 'require this key (Authorization: Bearer <key> or X-API-Key)')
    .option('--body-limit <bytes>', 'largest request body', integerIn(1024, 64 * 1024 * 1024), DEFAULT_BODY_LIMIT)
    .action(async (opts: { port: number; model?: string[]; version: string; apiKeyFile?: string; bodyLimit: number }, cmd: Command) => {
      for (const m of opts.model ?? []) checkModelName(m);
      const apiKey = await readApiKey(opts.apiKeyFile);
      const say = progress(cmd);
      await withRuntime(async (rt) => {
        const serving = await openLocalServing(rt, { ...(opts.model ? { models: opts.model } : {}), ref: opts.version });
        try {
          const http = await startPredictServer(serving.service, { port: opts.port, apiKey, bodyLimit: opts.bodyLimit, health: serving.versions });
          output(cmd, { url: http.url, models: serving.versions(), apiKey: apiKey !== null }, () =>
            `serving ${Object.entries(serving.versions()).map(([m, v]) => `${m}@${v}`).join(', ')} on ${http.url} (POST /predict${apiKey ? ', API key required' : ''}); Ctrl-C to stop`);
          await new Promise<void>((done) => {
            const keep = setInterval(() => undefined, 3_600_000);
            const stop = () => { clearInterval(keep); process.removeListener('SIGINT', stop); process.removeListener('SIGTERM', stop); done(); };
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
          });
          await http.close();
        } finally {
          await serving.close();
          say(`stopped; serving log: ${serving.log.written} rows written${serving.log.dropped ? `, ${serving.log.dropped} dropped` : ''}`);
        }
      });
    });
}
