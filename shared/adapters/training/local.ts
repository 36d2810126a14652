import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from '../../ports/object-store.js';
import type { JobSpec, JobStatus, TrainingLauncher } from '../../training/launcher.js';
import { log as logLine } from '../../runtime/log.js';
import { LogTail } from './log-tail.js';
import { ensureDir } from '../../ensure-dir.js';

/** Called once per job when it reaches a terminal state (after its model and logs were uploaded). */
export type OnJobDone = (job: { jobId: string; runId: string; status: JobStatus }) => Promise<void>;

export interface LocalRunnerOptions {
  objectStore: ObjectStore;
  /** Seconds between SIGTERM and SIGKILL when a job times out. */
  killGraceSeconds?: number;
  /** Seconds between copies of the running job's log file to its logsUri (default 10). */
  logFlushSeconds?: number;
}

interface Active {
  child: ChildProcess;
  done: Promise<void>;
}

const URI_VARS = ['AIP_TRAINING_DATA_URI', 'AIP_VALIDATION_DATA_URI', 'AIP_TEST_DATA_URI', 'CTLOOP_BASELINE_MODEL_DIR'];

/**
 * The embedded training backend: runs the trainer command as a child process in its own process group, with the
 * same environment contract as a Vertex AI CustomJob (AIP_* inputs as local files, AIP_MODEL_DIR a local directory
 * that is uploaded to the run's `model/` prefix afterwards), a timeout that kills the whole group, and stdout/stderr
 * streamed to the run's log file (uploaded to `logsUri` at the end; the last lines travel with a failure).
 */
export class LocalTrainingRunner implements TrainingLauncher {
  readonly backend = 'local' as const;
  private readonly active = new Map<string, Active>();
  /** Terminal status of the jobs this runner finished (kept for the reconciler). */
  private readonly finished = new Map<string, JobStatus>();
  private onDone: OnJobDone = async () => undefined;

  constructor(private readonly opts: LocalRunnerOptions) {}

  /** Who is told when a job ends (the completion path: publishes training.completed). */
  setOnDone(fn: OnJobDone): void {
    this.onDone = fn;
  }

  /** Resolves when every job started by this runner has finished and its completion was handled. */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  async launch(spec: JobSpec): Promise<{ jobId: string }> {
    const work = await mkdtemp(join(tmpdir(), `ctloop-run-${spec.runId}-`));
    const modelDir = join(work, 'model');
    await mkdir(modelDir);
    const env: Record<string, string> = { ...spec.env, AIP_MODEL_DIR: modelDir, AIP_CHECKPOINT_DIR: join(work, 'checkpoints'), CTLOOP_RUN_ID: spec.runId };
    const releases: (() => Promise<void>)[] = [];
    for (const name of URI_VARS) {
      const uri = env[name];
      if (!uri?.startsWith('gs://')) continue;
      if (name === 'CTLOOP_BASELINE_MODEL_DIR') {
        const dir = join(work, 'baseline-model');
        await this.downloadPrefix(uri, dir);
        env[name] = dir;
      } else {
        const copy = await this.opts.objectStore.localCopy(uri);
        releases.push(copy.release);
        env[name] = copy.path;
      }
    }
    const logPath = join(work, 'logs.txt');
    const log = createWriteStream(logPath);
    const tail = new LogTail();
    const [program, ...lead] = spec.command;
    const child = spawn(program!, [...lead, ...spec.args], {
      cwd: spec.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? work, LANG: 'C.UTF-8', PYTHONUNBUFFERED: '1', ...env },
    });
    // The runner's pid decides liveness: a trainer whose runner is gone has nobody to collect its model.
    const jobId = `local:${hostname()}:${process.pid}:${child.pid ?? 0}:${spec.runId}`;
    for (const s of [child.stdout!, child.stderr!]) {
      s.setEncoding('utf8');
      s.on('data', (c: string) => {
        log.write(c);
        tail.push(c);
      });
    }
    // Logs reach the run while it trains, not only at the end: the log file is copied to logsUri periodically.
    let flushing: Promise<unknown> = Promise.resolve();
    const flusher = setInterval(() => {
      flushing = flushing.then(() => this.opts.objectStore.upload(logPath, spec.logsUri, { contentType: 'text/plain' })).catch(() => undefined);
    }, (this.opts.logFlushSeconds ?? 10) * 1000);
    flusher.unref();
    let timedOut = false;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch { /* already gone */ }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), (this.opts.killGraceSeconds ?? 5) * 1000).unref();
    }, spec.timeoutSeconds * 1000);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((res) => {
      child.once('error', (err) => res({ code: null, signal: null, spawnError: err }));
      child.once('close', (code, signal) => res({ code, signal }));
    });
    const done = (async () => {
      const r = await exited;
      clearTimeout(timer);
      clearInterval(flusher);
      await flushing;
      killGroup('SIGKILL'); // children the trainer left behind
      await new Promise<void>((res) => log.end(res));
      const status = await this.finish(spec, r, timedOut, tail, modelDir, logPath);
      for (const rel of releases) await rel().catch(() => undefined);
      await rm(work, { recursive: true, force: true });
      this.finished.set(jobId, status);
      await this.onDone({ jobId, runId: spec.runId, status });
    })().catch((err: unknown) => {
      // Reporting the end failed (e.g. the bus was down): the run stays unfinished, and the reconciler completes it
      // from the status kept in `finished`.
      logLine('error', 'local training job ended but its completion could not be reported; the reconciler will retry', { jobId, runId: spec.runId, error: String(err) });
    }).finally(() => this.active.delete(jobId));
    this.active.set(jobId, { child, done });
    if (!child.pid) await done.catch(() => undefined);
    return { jobId };
  }

  private async finish(
    spec: JobSpec, r: { code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }, timedOut: boolean, tail: LogTail, modelDir: string, logPath: string,
  ): Promise<JobStatus> {
    const store = this.opts.objectStore;
    await store.upload(logPath, spec.logsUri, { contentType: 'text/plain' });
    const files = await readdir(modelDir, { recursive: true, withFileTypes: true });
    for (const f of files) {
      if (!f.isFile()) continue;
      const rel = join(f.parentPath, f.name).slice(modelDir.length + 1);
      await store.upload(join(f.parentPath, f.name), `${spec.outputPrefix}model/${rel}`);
    }
    const logsTail = tail.text();
    if (r.spawnError) return { state: 'FAILED', error: `cannot start the trainer ${spec.command[0]}: ${r.spawnError.message}`, logsTail };
    if (timedOut) return { state: 'EXPIRED', error: `the trainer ran longer than its timeout (${spec.timeoutSeconds} s) and was stopped`, logsTail };
    if (r.code !== 0) {
      return { state: 'FAILED', error: r.signal ? `the trainer was killed by ${r.signal}` : `the trainer exited with code ${r.code}`, logsTail };
    }
    return { state: 'SUCCEEDED', logsTail };
  }

  async status(jobId: string): Promise<JobStatus> {
    const ended = this.finished.get(jobId);
    if (ended) return ended;
    if (this.active.has(jobId)) return { state: 'RUNNING' };
    const m = /^local:([^:]*):(\d+):\d+:/.exec(jobId);
    if (m && m[1] === hostname() && Number(m[2]) !== process.pid && alive(Number(m[2]))) return { state: 'RUNNING' };
    return { state: 'FAILED', error: 'the local runner that started this job is gone (its process ended before the trainer finished)' };
  }

  async findByRun(runId: string): Promise<string | null> {
    for (const id of this.active.keys()) if (id.endsWith(`:${runId}`)) return id;
    return null;
  }

  private async downloadPrefix(prefix: string, dir: string): Promise<void> {
    const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
    for (const o of await this.opts.objectStore.list(base)) {
      const path = join(dir, o.uri.slice(base.length));
      await ensureDir(join(path, '..'));
      await this.opts.objectStore.download(o.uri, path);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
