import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { checkModelName } from '../../shared/adapters/model-registry/checks.js';
import { BackendError, NotFoundError, TransientError, ValidationError } from '../../shared/errors.js';
import { openLocalServing } from '../../shared/serving/local-serving.js';
import type { PredictResponse } from '../../shared/serving/predict-service.js';
import { output, withRuntime } from '../context.js';
import { readApiKey } from './serve.js';

/** Instances from a file: {"instances": [...]}, a JSON array, or JSON lines (one instance per line). */
export async function readInstances(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8').catch((err: Error) => { throw new ValidationError(`cannot read --instances ${path}: ${err.message}`, { hint: 'give a JSON file such as examples/flights/instances.json' }); });
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('{') && !trimmed.includes('\n{')) {
      const body = JSON.parse(trimmed) as { instances?: unknown };
      if (!Array.isArray(body.instances)) throw new ValidationError(`${path}: the object has no "instances" array`, { hint: 'write {"instances": [{...}, ...]}' });
      return body.instances;
    }
    if (trimmed.startsWith('[')) return JSON.parse(trimmed) as unknown[];
    return trimmed.split('\n').filter((l) => l.trim()).map((l, i) => {
      try { return JSON.parse(l) as unknown; } catch (err) { throw new ValidationError(`${path} line ${i + 1} is not JSON: ${(err as Error).message}`); }
    });
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(`${path} is not JSON: ${(err as Error).message}`, { hint: 'write {"instances": [{...}]}, a JSON array, or one JSON object per line' });
  }
}

function render(r: PredictResponse): string {
  const lines = [`${r.model.name}@${r.model.version}  request ${r.requestId}`];
  r.predictions.forEach((p, i) => {
    const notPresent = Object.entries(r.featureStatuses[i] ?? {}).filter(([, s]) => s !== 'PRESENT' && s !== 'REQUEST').map(([f, s]) => `${f} ${s}`);
    lines.push(`  [${i}] ${p.toFixed(6)}${notPresent.length ? `   (${notPresent.join(', ')})` : ''}`);
  });
  return lines.join('\n');
}

async function remote(url: string, model: string, instances: unknown[], apiKey: string | null): Promise<PredictResponse> {
  const res = await fetch(`${url.replace(/\/$/, '')}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ model, instances }),
  }).catch((err: Error) => { throw new TransientError(`cannot reach ${url}: ${err.message}`, { hint: 'start it with ctloop serve, or drop --url to predict in this process' }); });
  const body = await res.json() as PredictResponse & { message?: string; hint?: string; fields?: string[] };
  if (res.ok) return body;
  const opts = { ...(body.hint ? { hint: body.hint } : {}), details: { status: res.status, fields: body.fields } };
  if (res.status === 400) throw new ValidationError(body.message ?? 'bad request', opts);
  if (res.status === 404) throw new NotFoundError(body.message ?? 'not found', opts);
  if (res.status === 503) throw new TransientError(`${body.message ?? 'unavailable'} (retry after ${res.headers.get('retry-after') ?? '?'} s)`, opts);
  throw new BackendError(`${url} answered ${res.status}: ${body.message ?? ''}`, opts);
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('predict for the instances in a file: in this process (model server + online features), or through --url')
    .requiredOption('--model <name>', 'model to ask')
    .requiredOption('--instances <file>', '{"instances": [...]}, a JSON array, or JSON lines (see examples/flights/instances.json)')
    .option('--version <ref>', 'version number or alias (in-process only)', 'champion')
    .option('--url <url>', 'a running `ctloop serve` (e.g. http://127.0.0.1:8080)')
    .option('--api-key-file <path>', 'API key for --url')
    .action(async (opts: { model: string; instances: string; version: string; url?: string; apiKeyFile?: string }, cmd: Command) => {
      checkModelName(opts.model);
      const instances = await readInstances(opts.instances);
      if (opts.url) {
        const r = await remote(opts.url, opts.model, instances, await readApiKey(opts.apiKeyFile));
        output(cmd, r, () => render(r));
        return;
      }
      await withRuntime(async (rt) => {
        const serving = await openLocalServing(rt, { models: [opts.model], ref: opts.version, log: { flushMs: 0 } });
        try {
          const r = await serving.service.predict({ model: opts.model, instances });
          output(cmd, r, () => render(r));
        } finally {
          await serving.close();
        }
      });
    });
}
