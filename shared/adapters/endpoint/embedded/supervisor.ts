import { spawn, type ChildProcess } from 'node:child_process';
import { request, Agent } from 'node:http';
import { createServer } from 'node:net';
import type { DeployedModelHealth } from '../../../ports/endpoint.js';
import { log } from '../../../runtime/log.js';

/**
 * One supervised model-server process (server/server.py, or a stand-in in tests) for one deployed model: started on
 * a free loopback port with the Vertex AI serving variables, healthy once its health route answers 200. A process
 * that exits without being asked is reported (an `error` log line and the `onCrash` callback) and restarted with a
 * growing back-off; after `maxRestarts` consecutive crashes without becoming healthy it stays down, marked
 * unhealthy with the reason — never silently gone.
 */
export interface ServerCommand {
  command: string[];
  env(modelDir: string, port: number): Record<string, string>;
}

export interface SupervisorOptions {
  /** Time a start may take to answer health (Vertex's contract: 10 s). */
  healthTimeoutMs: number;
  maxRestarts: number;
  onCrash?: (info: { deployedModelId: string; code: number | null; signal: string | null; restarts: number; stderr: string }) => void;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** One HTTP exchange with a local server: status and body text. */
export function httpCall(port: number, method: 'GET' | 'POST', path: string, body?: string, timeoutMs = 30_000): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', rej);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', rej);
    req.end(body);
  });
}

export class ServerProcess {
  health: DeployedModelHealth = 'starting';
  restarts = 0;
  detail: string | undefined;
  port = 0;
  private child: ChildProcess | undefined;
  private stopped = false;
  private stderr = '';
  private crashesInRow = 0;
  private ready: Promise<void> | undefined;

  constructor(
    readonly deployedModelId: string,
    private readonly modelDir: string,
    private readonly cmd: ServerCommand,
    private readonly opts: SupervisorOptions,
    readonly routes = { health: '/health', predict: '/predict' },
  ) {}

  /** Start (once) and resolve when healthy; rejects with the reason when it is not healthy in time. */
  start(): Promise<void> {
    this.ready ??= this.launch().then((ok) => {
      if (!ok) throw new Error(this.detail);
    });
    return this.ready;
  }

  /** One attempt: spawn, wait for health. False (with `detail`) when the server is not healthy in time. */
  private async launch(): Promise<boolean> {
    this.health = this.restarts > 0 ? 'restarting' : 'starting';
    this.port = await freePort();
    const env = this.cmd.env(this.modelDir, this.port);
    this.routes.health = env.AIP_HEALTH_ROUTE ?? '/health';
    this.routes.predict = env.AIP_PREDICT_ROUTE ?? '/predict';
    this.stderr = '';
    const [bin, ...args] = this.cmd.command;
    const child = spawn(bin!, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString('utf8')).slice(-2000);
    });
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    child.once('error', (err) => {
      this.stderr += `\n${err.message}`;
    });
    const gone = () => child.exitCode !== null || child.signalCode !== null;
    const deadline = Date.now() + this.opts.healthTimeoutMs;
    while (Date.now() < deadline && !gone() && !this.stopped) {
      const ok = await httpCall(this.port, 'GET', this.routes.health, undefined, 1000).then((r) => r.status === 200, () => false);
      if (ok) {
        this.health = 'healthy';
        this.crashesInRow = 0;
        this.detail = undefined;
        return true;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const why = gone()
      ? `exited (code ${child.exitCode}, signal ${child.signalCode}) before answering health`
      : `did not answer ${this.routes.health} with 200 within ${this.opts.healthTimeoutMs} ms`;
    this.health = 'unhealthy';
    this.detail = `model server ${why}${this.stderr ? `: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
    this.child = undefined;
    child.kill('SIGKILL');
    return false;
  }

  /** An exit nobody asked for, after the server was healthy: report it, restart with back-off, give up after maxRestarts. */
  private exited(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.stopped || this.child !== child || this.health !== 'healthy') return; // a start in progress handles its own failure
    this.health = 'restarting';
    this.detail = `model server exited (code ${code}, signal ${signal})`;
    const info = { deployedModelId: this.deployedModelId, code, signal, restarts: this.restarts, stderr: this.stderr.trim().slice(-500) };
    log('error', 'model server crashed; restarting it', info);
    this.opts.onCrash?.(info);
    this.ready = (async () => {
      while (!this.stopped) {
        this.crashesInRow++;
        if (this.crashesInRow > this.opts.maxRestarts) {
          this.health = 'unhealthy';
          this.detail = `model server failed ${this.crashesInRow} times in a row and is not restarted again: ${this.detail}`;
          log('error', 'model server given up', { deployedModelId: this.deployedModelId, detail: this.detail });
          throw new Error(this.detail);
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** (this.crashesInRow - 1), 5000)));
        this.restarts++;
        if (await this.launch()) return;
      }
      throw new Error('stopped');
    })();
    this.ready.catch(() => undefined);
  }

  /** Send a predict request; the caller handles a non-200 status. */
  async predict(body: string): Promise<{ status: number; body: string }> {
    await this.start();
    return httpCall(this.port, 'POST', this.routes.predict, body);
  }

  stop(): void {
    this.stopped = true;
    this.health = 'unhealthy';
    this.detail = 'stopped';
    this.child?.kill('SIGTERM');
  }
}
