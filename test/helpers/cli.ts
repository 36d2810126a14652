import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The package bin, as `npx ctloop` runs it. */
export const ctloopBin = new URL('../../bin/ctloop.mjs', import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI as a user does: a real process; exit code and both streams, whatever the outcome. */
export async function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; bin?: string } = {}): Promise<CliResult> {
  try {
    const r = await run(process.execPath, [opts.bin ?? ctloopBin, ...args], { env: opts.env ?? process.env, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
