import type { Command } from 'commander';
import { ValidationError } from '../shared/errors.js';
import { loadConfig } from '../shared/config/config.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../shared/runtime/runtime.js';

export type Format = 'text' | 'json';

export function formatOf(cmd: Command): Format {
  const f = cmd.optsWithGlobals().format;
  if (f !== 'text' && f !== 'json') throw new ValidationError(`--format must be text or json, got ${String(f)}`, { hint: 'use --format text or --format json' });
  return f;
}

/** Print a result: JSON on stdout for --format json, else the text rendering. */
export function output(cmd: Command, value: unknown, text: () => string): void {
  process.stdout.write(formatOf(cmd) === 'json' ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/** Progress on stderr: one line per update (safe in pipes and CI), silenced with --format json unless a TTY. */
export function progress(cmd: Command): (msg: string) => void {
  const json = formatOf(cmd) === 'json';
  const tty = process.stderr.isTTY;
  return (msg) => {
    if (json && !tty) return;
    process.stderr.write(tty ? `\r\x1b[2K${msg}` : `${msg}\n`);
  };
}

export function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

/**
 * Build the runtime from the environment for one command and always close it. Commands that only read pass
 * `{ readOnly: true }`: they then work on a read-only state directory (DuckDB opened read-only, nothing created).
 */
export async function withRuntime<T>(fn: (rt: Runtime) => Promise<T>, opts: RuntimeOptions = {}): Promise<T> {
  const rt = await createRuntime(loadConfig(), {}, opts);
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}
