import { BackendError, NotFoundError, TransientError, ValidationError } from '../../../errors.js';
import type { DeployedModel, Endpoint, EndpointState, Prediction } from '../../../ports/endpoint.js';
import { checkModelName } from '../../model-registry/checks.js';
import { checkPercent, checkSplit, chooseDeployed, splitWith } from '../split.js';
import { EndpointStateFiles, type StoredEndpoint } from './state.js';
import { ServerProcess, type ServerCommand, type SupervisorOptions } from './supervisor.js';

/**
 * Embedded endpoint: one supervised model-server process per deployed version (started by whichever process hosts
 * the endpoint, on first use), a traffic split by weight with a deterministic choice per request id, state in the
 * state directory. `deploy` starts the new version's server and records it only once it is healthy, so a version
 * that fails health never takes traffic and the current split stays as it was.
 */
export interface EmbeddedEndpointDeps {
  /** Directory of the endpoint state files (`<stateDir>/endpoints`). */
  dir: string;
  /** A registered version's artifacts as a local directory; NotFoundError when the version does not exist. */
  modelDir(model: string, version: string): Promise<string>;
  command: ServerCommand;
  supervisor?: Partial<SupervisorOptions>;
  now?: () => Date;
}

export class EmbeddedEndpoint implements Endpoint {
  readonly kind = 'embedded' as const;
  private readonly files: EndpointStateFiles;
  private readonly servers = new Map<string, ServerProcess>();
  private readonly opts: SupervisorOptions;
  private readonly onExit = () => this.killAll();

  constructor(private readonly deps: EmbeddedEndpointDeps) {
    this.files = new EndpointStateFiles(deps.dir);
    this.opts = { healthTimeoutMs: 10_000, maxRestarts: 5, ...deps.supervisor };
    process.once('exit', this.onExit);
  }

  private key(model: string, id: string): string {
    return `${model}/${id}`;
  }

  /** This process's server for a deployment, started if it is not running here yet. */
  private server(model: string, d: { deployedModelId: string; modelDir: string }): ServerProcess {
    const k = this.key(model, d.deployedModelId);
    let s = this.servers.get(k);
    if (!s) {
      s = new ServerProcess(d.deployedModelId, d.modelDir, this.deps.command, this.opts);
      this.servers.set(k, s);
      s.start().catch(() => undefined); // health is read from the process state
    }
    return s;
  }

  /** Stop servers of deployments another process removed. */
  private prune(model: string, state: StoredEndpoint | null): void {
    const live = new Set((state?.deployedModels ?? []).map((d) => this.key(model, d.deployedModelId)));
    for (const [k, s] of this.servers) {
      if (k.startsWith(`${model}/`) && !live.has(k)) {
        s.stop();
        this.servers.delete(k);
      }
    }
  }

  async deploy(model: string, version: string, opts: { trafficPercent: number }): Promise<DeployedModel> {
    checkModelName(model);
    checkPercent(opts.trafficPercent);
    const state: StoredEndpoint = (await this.files.read(model)) ?? { model, seq: 0, deployedModels: [], trafficSplit: {} };
    const existing = state.deployedModels.find((d) => d.version === version);
    if (existing) return strip(existing);
    const modelDir = await this.deps.modelDir(model, version);
    const deployedModelId = `${version}-${state.seq + 1}`;
    const s = new ServerProcess(deployedModelId, modelDir, this.deps.command, this.opts);
    try {
      await s.start();
    } catch (err) {
      s.stop();
      throw new BackendError(`${model} version ${version} was not deployed: ${(err as Error).message}`, {
        hint: 'the model server must answer its health route within 10 s; run server/server.py on the model directory to see why', cause: err,
      });
    }
    // Re-read: the state may have changed while the server started.
    const now = (await this.files.read(model)) ?? state;
    const d = { deployedModelId, model, version, createTime: (this.deps.now?.() ?? new Date()).toISOString(), modelDir };
    const next: StoredEndpoint = {
      model, seq: Math.max(now.seq, state.seq) + 1, deployedModels: [...now.deployedModels, d],
      trafficSplit: splitWith(now.trafficSplit, deployedModelId, now.deployedModels.length === 0 ? 100 : opts.trafficPercent),
    };
    await this.files.write(next);
    this.servers.set(this.key(model, deployedModelId), s);
    return strip(d);
  }

  async setTraffic(model: string, split: Record<string, number>): Promise<void> {
    const state = await this.must(model);
    const checked = checkSplit(split, state.deployedModels.map((d) => d.deployedModelId));
    await this.files.write({ ...state, trafficSplit: checked });
  }

  async undeploy(model: string, deployedModelId: string): Promise<void> {
    const state = await this.files.read(model);
    if (!state || !state.deployedModels.some((d) => d.deployedModelId === deployedModelId)) return;
    if ((state.trafficSplit[deployedModelId] ?? 0) > 0 && state.deployedModels.length > 1) {
      throw new ValidationError(`${model}: deployed model ${deployedModelId} still takes ${state.trafficSplit[deployedModelId]}% of the traffic`, {
        hint: 'shift its traffic to other deployed models first (setTraffic), then undeploy it',
      });
    }
    const rest = state.deployedModels.filter((d) => d.deployedModelId !== deployedModelId);
    const split = Object.fromEntries(Object.entries(state.trafficSplit).filter(([id]) => id !== deployedModelId));
    await this.files.write({ ...state, deployedModels: rest, trafficSplit: split });
    this.prune(model, { ...state, deployedModels: rest });
  }

  async describe(model: string): Promise<EndpointState | null> {
    checkModelName(model);
    const state = await this.files.read(model);
    this.prune(model, state);
    if (!state || state.deployedModels.length === 0) return null;
    const servers = state.deployedModels.map((d) => this.server(model, d));
    // A server this process just started reports once its first health wait is over.
    await Promise.all(servers.map((s) => s.start().catch(() => undefined)));
    return {
      model, endpoint: `embedded://${model}`, trafficSplit: { ...state.trafficSplit },
      deployedModels: state.deployedModels.map((d, i) => {
        const s = servers[i]!;
        return { ...strip(d), health: s.health, restarts: s.restarts, ...(s.detail ? { detail: s.detail } : {}) };
      }),
    };
  }

  async predict(model: string, instances: unknown[], opts: { requestId?: string } = {}): Promise<Prediction> {
    checkModelName(model);
    const state = await this.files.readCached(model);
    if (!state || state.deployedModels.length === 0) throw new NotFoundError(`model ${model} is not deployed`, { hint: 'deploy a version first: `ctloop deploy M@version`' });
    this.prune(model, state);
    const id = chooseDeployed(model, state.trafficSplit, opts.requestId);
    const d = state.deployedModels.find((x) => x.deployedModelId === id);
    if (!d) throw new TransientError(`${model}: no deployed model takes traffic`, { hint: 'deploy a version (`ctloop deploy M@version`)' });
    const s = this.server(model, d);
    let res: { status: number; body: string };
    try {
      res = await s.predict(JSON.stringify({ instances }));
    } catch (err) {
      throw new TransientError(`${model} version ${d.version} (${d.deployedModelId}) is not serving: ${(err as Error).message}`, {
        hint: s.health === 'unhealthy' ? 'the server keeps failing; `ctloop endpoints` shows why, `ctloop rollback` removes it' : 'it is being restarted; retry', cause: err,
        details: { deployedModelId: d.deployedModelId, version: d.version },
      });
    }
    if (res.status !== 200) {
      const E = res.status >= 500 ? TransientError : ValidationError;
      throw new E(`${model} version ${d.version} answered ${res.status}: ${res.body.slice(0, 300)}`, {
        hint: res.status >= 500 ? 'retry; see the server log' : 'check the instances match the model\'s features', details: { deployedModelId: d.deployedModelId, version: d.version, status: res.status },
      });
    }
    const body = JSON.parse(res.body) as { predictions?: unknown };
    if (!Array.isArray(body.predictions)) throw new BackendError(`${model} version ${d.version} answered without predictions`, { hint: 'the server must answer {"predictions": [...]}' });
    return { predictions: body.predictions.map(Number), model, version: d.version, deployedModelId: d.deployedModelId };
  }

  private async must(model: string): Promise<StoredEndpoint> {
    checkModelName(model);
    const state = await this.files.read(model);
    if (!state || state.deployedModels.length === 0) throw new NotFoundError(`model ${model} is not deployed`, { hint: 'deploy a version first: `ctloop deploy M@version`' });
    return state;
  }

  private killAll(): void {
    for (const s of this.servers.values()) s.stop();
  }

  /** Stop every server this process started (the deployments stay recorded). */
  async close(): Promise<void> {
    this.killAll();
    this.servers.clear();
    process.removeListener('exit', this.onExit);
  }
}

function strip(d: DeployedModel & { modelDir?: string }): DeployedModel {
  return { deployedModelId: d.deployedModelId, model: d.model, version: d.version, createTime: d.createTime };
}
