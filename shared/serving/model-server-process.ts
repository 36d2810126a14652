import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { TransientError, ValidationError } from '../errors.js';
import { HEALTH_ROUTE, modelServerCommand, PREDICT_ROUTE, type ModelServerCommand } from './server-command.js';

/** One running model server process (server/server.py) and a keep-alive client to it. */
export interface ModelServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Why the process ended, once it has (null while it runs). */
  exited(): string | null;
  predict(instances: unknown[]): Promise<number[]>;
  stop(): Promise<void>;
}

export interface StartOptions {
  command?: ModelServerCommand;
  /** 0 (default): any free port, read from the server's first line. */
  port?: number;
  /** The contract gives a server 10 s to become healthy. */
  healthTimeoutMs?: number;
}

const READY = /ctloop-model-server listening on [^\s:]+:(\d+)/;

/**
 * Start the model server for a model directory and wait until its health route answers 200. The process runs in its
 * own process group and is stopped with SIGTERM (then SIGKILL) by `stop`. A server that exits or stays unhealthy
 * past the timeout fails the start with its last output.
 */
export async function startModelServer(modelDir: string, opts: StartOptions = {}): Promise<ModelServerProcess> {
  const cmd = opts.command ?? modelServerCommand();
  const child = spawn(cmd.command[0]!, cmd.command.slice(1), {
    env: { ...process.env, ...cmd.env(modelDir, opts.port ?? 0) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  let exit: string | null = null;
  const exitedP = new Promise<void>((res) => {
    child.once('exit', (code, signal) => { exit = signal ? `killed by ${signal}` : `exited with code ${code}`; res(); });
    child.once('error', (err) => { exit = `could not start ${cmd.command[0]}: ${err.message}`; res(); });
  });
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new TransientError(`model server for ${modelDir} did not start within ${opts.healthTimeoutMs ?? 10_000} ms`, { hint: `its output: ${output.slice(-500) || '(none)'}` })), opts.healthTimeoutMs ?? 10_000);
    const onData = (b: Buffer) => {
      output += b.toString();
      const m = READY.exec(output);
      if (m) { clearTimeout(timer); res(Number(m[1])); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => { output = (output + b.toString()).slice(-4000); });
    void exitedP.then(() => { clearTimeout(timer); rej(new TransientError(`model server for ${modelDir} ${exit}`, { hint: output.trim().split('\n').slice(-3).join(' | ') || 'no output' })); });
  }).catch((err) => { kill(child); throw err; });
  const url = `http://127.0.0.1:${port}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const proc: ModelServerProcess = {
    url,
    pid: child.pid!,
    exited: () => exit,
    predict: (instances) => postPredict(agent, port, instances, () => exit),
    async stop() {
      agent.destroy();
      if (exit === null) {
        kill(child, 'SIGTERM');
        const hard = setTimeout(() => kill(child, 'SIGKILL'), 3000);
        await exitedP;
        clearTimeout(hard);
      }
    },
  };
  await waitHealthy(agent, port, opts.healthTimeoutMs ?? 10_000, () => exit).catch(async (err) => { await proc.stop(); throw err; });
  return proc;
}

function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try { process.kill(-child.pid!, signal); } catch { /* already gone */ }
}

async function waitHealthy(agent: Agent, port: number, timeoutMs: number, exit: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await call(agent, port, 'GET', HEALTH_ROUTE, null).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (exit() !== null) throw new TransientError(`model server ${exit()}`);
    if (Date.now() > deadline) throw new TransientError(`model server on port ${port} not healthy within ${timeoutMs} ms (last status ${status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function postPredict(agent: Agent, port: number, instances: unknown[], exit: () => string | null): Promise<number[]> {
  let r: { status: number; body: string };
  try {
    r = await call(agent, port, 'POST', PREDICT_ROUTE, JSON.stringify({ instances }));
  } catch (err) {
    throw new TransientError(`model server unreachable: ${exit() ?? (err as Error).message}`, { hint: 'the server is restarted by the endpoint; retry shortly' });
  }
  const body = JSON.parse(r.body) as { predictions?: number[]; error?: string };
  if (r.status === 400) throw new ValidationError(body.error ?? 'the model server refused the instances', { hint: 'send numbers (or null) for numeric features' });
  if (r.status !== 200 || !Array.isArray(body.predictions)) throw new TransientError(`model server answered ${r.status}: ${body.error ?? r.body.slice(0, 200)}`);
  return body.predictions;
}

function call(agent: Agent, port: number, method: string, path: string, body: string | null): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: body === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (resp) => {
      const chunks: Buffer[] = [];
      resp.on('data', (c: Buffer) => chunks.push(c));
      resp.on('end', () => res({ status: resp.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      resp.on('error', rej);
    });
    req.on('error', rej);
    req.end(body ?? undefined);
  });
}
