/**
 * The emulator processes of `ctloop up --emulators` and `ctloop demo --emulators` (and emulators/start.sh, which
 * records the same files): each emulator runs in its own process group (spawned `detached`, i.e. setsid), its PID
 * (= PGID) in `<state>/emulators/<name>.pid`, its port in `<name>.port`, its output in `<name>.log`. A recorded
 * emulator is reused when its process is alive, is the emulator (its command line says so) and answers on its port;
 * otherwise its files are stale and removed before a new one starts. Stopping kills the whole group (the JVM under
 * a launcher script included) and waits for it to be gone.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { ConfigError, TransientError } from '../shared/errors.js';
import { ensureDir } from '../shared/ensure-dir.js';
import type { EmulatorName, EmulatorSpec } from './specs.js';

export { emulatorSpecs, type EmulatorName, type EmulatorSpec } from './specs.js';

export interface RunningEmulator {
  name: EmulatorName;
  title: string;
  port: number;
  /** PID = PGID. */
  pid: number;
  /** False when a live one recorded in the state directory was reused (it is not ours to stop). */
  started: boolean;
  startupMs: number;
  log: string;
  env: Record<string, string>;
}

export const emulatorDir = (stateDir: string): string => join(stateDir, 'emulators');

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a process (Linux /proc), or null when it cannot be read. */
async function cmdline(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

export function portAnswers(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no free port'))));
    });
  });
}

/** A ConfigError when `port` is taken on 127.0.0.1 (by anything: we only bind ports we were given free). */
export async function assertPortFree(port: number, what: string, setting: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => reject(new ConfigError(`port ${port} for the ${what} is in use (${err.code ?? err.message})`, {
      hint: `stop what listens on ${port} (ss -ltnp 'sport = :${port}'), or choose another port with ${setting} (0 picks a free one)`,
    })));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

interface Recorded { pid: number; port: number }

async function readRecorded(dir: string, name: EmulatorName): Promise<Recorded | null> {
  const pid = Number((await readFile(join(dir, `${name}.pid`), 'utf8').catch(() => '')).trim());
  const port = Number((await readFile(join(dir, `${name}.port`), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return { pid, port: Number.isInteger(port) && port > 0 ? port : NaN };
}

/**
 * What the state directory records for an emulator: `live` (ours, alive, answering: reuse it), `stale` (its files
 * were removed: the process is gone, or the PID now belongs to another program, or it does not answer) or `none`.
 */
export async function inspectRecorded(stateDir: string, spec: EmulatorSpec): Promise<{ state: 'live'; pid: number; port: number } | { state: 'stale'; why: string } | { state: 'none' }> {
  const dir = emulatorDir(stateDir);
  const rec = await readRecorded(dir, spec.name);
  if (!rec) {
    if (!existsSync(join(dir, `${spec.name}.pid`)) && !existsSync(join(dir, `${spec.name}.port`))) return { state: 'none' };
    await removeRecord(dir, spec.name);
    return { state: 'stale', why: 'no valid PID recorded' };
  }
  let why: string | null = null;
  if (!alive(rec.pid)) why = `process ${rec.pid} is gone`;
  else {
    const cmd = await cmdline(rec.pid);
    if (cmd !== null && !cmd.includes(spec.marker)) why = `PID ${rec.pid} now belongs to another program (${cmd.slice(0, 80).trim()})`;
    else if (Number.isNaN(rec.port)) why = `no port recorded for process ${rec.pid}`;
    else if (!(await portAnswers(rec.port))) why = `process ${rec.pid} does not answer on port ${rec.port}`;
  }
  if (why === null) return { state: 'live', pid: rec.pid, port: rec.port };
  // Only a group that is still ours (alive, our command line) is killed; a foreign PID is never touched.
  if (alive(rec.pid) && (await cmdline(rec.pid))?.includes(spec.marker)) await killGroup(rec.pid);
  await removeRecord(dir, spec.name);
  return { state: 'stale', why };
}

async function removeRecord(dir: string, name: string): Promise<void> {
  await rm(join(dir, `${name}.pid`), { force: true });
  await rm(join(dir, `${name}.port`), { force: true });
}

/** SIGTERM the group, wait up to `graceMs` for the leader to be gone, then SIGKILL whatever is left of the group. */
export async function killGroup(pgid: number, graceMs = 5000): Promise<void> {
  const signal = (s: NodeJS.Signals) => { try { process.kill(-pgid, s); } catch { /* gone */ } };
  const groupAlive = () => { try { process.kill(-pgid, 0); return true; } catch { return false; } };
  if (!groupAlive()) return;
  signal('SIGTERM');
  const until = Date.now() + graceMs;
  while (groupAlive() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive()) {
    signal('SIGKILL');
    const hard = Date.now() + 5000;
    while (groupAlive() && Date.now() < hard) await new Promise((r) => setTimeout(r, 50));
  }
}

/** Start `spec` on `port` (0: a free one) or reuse the live one recorded in the state directory. */
export async function startOrReuse(stateDir: string, spec: EmulatorSpec, port: number, opts: { readyTimeoutMs?: number; say?: (line: string) => void } = {}): Promise<RunningEmulator> {
  const dir = emulatorDir(stateDir);
  await ensureDir(dir);
  const log = join(dir, `${spec.name}.log`);
  const found = await inspectRecorded(stateDir, spec);
  if (found.state === 'live') {
    return { name: spec.name, title: spec.title, port: found.port, pid: found.pid, started: false, startupMs: 0, log, env: spec.env(found.port) };
  }
  if (found.state === 'stale') opts.say?.(`${spec.title}: removed a stale record (${found.why})`);
  const p = port || (await freePort());
  if (port) await assertPortFree(p, spec.title, `--${spec.name}-port`);
  const cmd = spec.command(p); // a ConfigError naming what to install when the emulator is missing
  const t0 = performance.now();
  const fd = openSync(log, 'w');
  const child = spawn(cmd.file, cmd.args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new ConfigError(`could not start the ${spec.title} (${cmd.file})`, { hint: `see ${log}` });
  child.unref();
  await writeFile(join(dir, `${spec.name}.pid`), `${pid}\n`);
  await writeFile(join(dir, `${spec.name}.port`), `${p}\n`);
  let exited: string | null = null;
  child.once('exit', (code, sig) => { exited = `exit ${code ?? sig}`; });
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  for (;;) {
    const out = await readFile(log, 'utf8').catch(() => '');
    if (spec.ready(out, p)) break;
    if (exited || Date.now() > deadline) {
      await killGroup(pid, 1000);
      await removeRecord(dir, spec.name);
      throw new TransientError(`the ${spec.title} ${exited ? `exited during startup (${exited})` : `was not ready after ${Math.round((opts.readyTimeoutMs ?? 90_000) / 1000)} s`}: ${out.trim().split('\n').slice(-5).join(' | ')}`, {
        hint: `see ${log}`,
      });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name: spec.name, title: spec.title, port: p, pid, started: true, startupMs: Math.round(performance.now() - t0), log, env: spec.env(p) };
}

/** Stop an emulator this process started (kill its group, wait for it) and remove its record. */
export async function stopEmulator(stateDir: string, e: RunningEmulator): Promise<void> {
  if (!e.started) return;
  await killGroup(e.pid);
  const dir = emulatorDir(stateDir);
  const rec = await readRecorded(dir, e.name);
  if (rec?.pid === e.pid) await removeRecord(dir, e.name);
}
