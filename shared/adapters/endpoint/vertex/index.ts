import type { protos, v1 } from '@google-cloud/aiplatform';
import { BackendError, NotFoundError, TransientError, ValidationError } from '../../../errors.js';
import { OperationPendingError, type DeployedModel, type Endpoint, type EndpointState, type Prediction } from '../../../ports/endpoint.js';
import type { ObjectStore } from '../../../ports/object-store.js';
import { checkModelName } from '../../model-registry/checks.js';
import { checkPercent, checkSplit, splitWith } from '../split.js';

/**
 * Vertex AI endpoint adapter (@google-cloud/aiplatform 6: EndpointServiceClient, PredictionServiceClient).
 *
 * - `deploy` → `deployModel({endpoint, deployedModel: {model: '…/models/M@V', dedicatedResources}, trafficSplit})`
 *   where `"0"` is the model being deployed and the current split is scaled to the rest (a non-empty map replaces the
 *   whole split). Long-running: the operation name is written to the object store and the call throws
 *   OperationPendingError; the next call for the same version resumes it by name (`checkDeployModelProgress`), so a
 *   function never waits for a deployment and a retry never deploys twice. A version already on the endpoint is
 *   returned as it is.
 * - `setTraffic` → `updateEndpoint({endpoint: {name, trafficSplit}, updateMask: {paths: ['traffic_split']}})`.
 * - `undeploy` → `undeployModel` (long-running, resumed the same way); refused while the model takes traffic.
 * - `predict` → `rawPredict` with `{"instances": [...]}` (xgboost's numeric predictions are not protobuf structs).
 *   rawPredict's body does not say which deployed model answered: the adapter takes `deployedModelId` from the body
 *   when the server adds it, else the one deployed model taking traffic, else `unknown` (per-deployment attribution
 *   on Vertex comes from the endpoint's request-response log, which records deployed_model_id).
 */
type EndpointClient = Pick<v1.EndpointServiceClient, 'getEndpoint' | 'deployModel' | 'checkDeployModelProgress' | 'undeployModel' | 'checkUndeployModelProgress' | 'updateEndpoint'>;
type PredictionClient = Pick<v1.PredictionServiceClient, 'rawPredict'>;
type VEndpoint = protos.google.cloud.aiplatform.v1.IEndpoint;

export interface VertexEndpointDeps {
  endpoints: EndpointClient;
  prediction: PredictionClient;
  project: string;
  region: string;
  /** Endpoint id per model; `*` is the endpoint of models not listed (Terraform creates it). */
  endpointIds: Record<string, string>;
  machineType: string;
  minReplicas: number;
  maxReplicas: number;
  /** Identity of the serving containers (the `ctloop-server` account), or null for Vertex's default. */
  serviceAccount: string | null;
  objectStore: ObjectStore;
  bucket: string;
  now?: () => Date;
}

const NOT_FOUND = 5;
const TRANSIENT = new Set([4, 8, 10, 13, 14]);

function mapError(err: unknown, what: string): never {
  const code = (err as { code?: number }).code;
  const msg = `${what}: ${(err as Error).message}`;
  if (code !== undefined && TRANSIENT.has(code)) throw new TransientError(msg, { hint: 'Vertex AI is unavailable or throttling; the call is retried', cause: err });
  throw new BackendError(msg, { hint: "check the endpoint exists (Terraform) and the caller's service account has roles/aiplatform.user", cause: err });
}

function timestamp(t: protos.google.protobuf.ITimestamp | null | undefined, fallback: Date): string {
  if (!t) return fallback.toISOString();
  return new Date(Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

interface Marker { operation: string }

export class VertexEndpoint implements Endpoint {
  readonly kind = 'vertex' as const;

  constructor(private readonly deps: VertexEndpointDeps) {}

  private get parent(): string {
    return `projects/${this.deps.project}/locations/${this.deps.region}`;
  }

  endpointName(model: string): string {
    const id = this.deps.endpointIds[model] ?? this.deps.endpointIds['*'];
    if (!id) throw new ValidationError(`no Vertex AI endpoint is configured for model ${model}`, { hint: 'set CTLOOP_VERTEX_ENDPOINT (the endpoint id Terraform outputs as vertex_endpoint_id)' });
    return `${this.parent}/endpoints/${id}`;
  }

  private modelName(model: string): string {
    return `${this.parent}/models/${model}`;
  }

  private markerUri(model: string, kind: 'deploy' | 'undeploy', key: string): string {
    return `gs://${this.deps.bucket}/deployments/${model}/operations/${kind}-${key}.json`;
  }

  private async marker(uri: string): Promise<Marker | null> {
    if (!(await this.deps.objectStore.exists(uri))) return null;
    return JSON.parse((await this.deps.objectStore.get(uri)).toString('utf8')) as Marker;
  }

  private async getEndpoint(model: string): Promise<VEndpoint | null> {
    try {
      const [e] = await this.deps.endpoints.getEndpoint({ name: this.endpointName(model) });
      return e;
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) return null;
      return mapError(err, `getEndpoint ${this.endpointName(model)}`);
    }
  }

  /** Deployed models of this ctloop model on the endpoint (an endpoint may host others). */
  private deployedOf(model: string, e: VEndpoint): DeployedModel[] {
    const prefix = this.modelName(model);
    return (e.deployedModels ?? []).flatMap((d) => {
      const name = String(d.model ?? '');
      if (name !== prefix && !name.startsWith(`${prefix}@`)) return [];
      const version = String(d.modelVersionId ?? (name.includes('@') ? name.split('@')[1] : ''));
      return [{ deployedModelId: String(d.id), model, version, createTime: timestamp(d.createTime, new Date(0)) }];
    });
  }

  async deploy(model: string, version: string, opts: { trafficPercent: number }): Promise<DeployedModel> {
    checkModelName(model);
    this.described.delete(model);
    checkPercent(opts.trafficPercent);
    const uri = this.markerUri(model, 'deploy', version);
    const pending = await this.marker(uri);
    if (pending) return this.resumeDeploy(model, version, uri, pending.operation);
    const e = await this.getEndpoint(model);
    if (!e) throw new NotFoundError(`Vertex AI endpoint ${this.endpointName(model)} does not exist`, { hint: 'apply the Terraform (module vertex_ai creates it) or fix CTLOOP_VERTEX_ENDPOINT' });
    const already = this.deployedOf(model, e).find((d) => d.version === version);
    if (already) return already;
    const current = Object.fromEntries(Object.entries(e.trafficSplit ?? {}).map(([k, v]) => [k, Number(v)]));
    const first = Object.values(current).every((v) => v === 0);
    const split = splitWith(current, '0', first ? 100 : opts.trafficPercent);
    let name: string;
    try {
      const [op] = await this.deps.endpoints.deployModel({
        endpoint: this.endpointName(model),
        deployedModel: {
          model: `${this.modelName(model)}@${version}`,
          displayName: `${model}-v${version}`,
          dedicatedResources: { machineSpec: { machineType: this.deps.machineType }, minReplicaCount: this.deps.minReplicas, maxReplicaCount: this.deps.maxReplicas },
          ...(this.deps.serviceAccount ? { serviceAccount: this.deps.serviceAccount } : {}),
        },
        trafficSplit: split,
      });
      name = String(op.name);
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) throw new NotFoundError(`model ${model} version ${version} is not in the Vertex AI Model Registry`, { hint: 'list versions with `ctloop models list`', cause: err });
      return mapError(err, `deployModel ${model}@${version}`);
    }
    await this.deps.objectStore.put(uri, JSON.stringify({ operation: name, model, version }), { contentType: 'application/json' });
    throw new OperationPendingError(name, `deployment of ${model} version ${version}`);
  }

  private async resumeDeploy(model: string, version: string, uri: string, operation: string): Promise<DeployedModel> {
    let op: Awaited<ReturnType<EndpointClient['checkDeployModelProgress']>>;
    try {
      op = await this.deps.endpoints.checkDeployModelProgress(operation);
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) {
        await this.deps.objectStore.delete(uri);
        throw new TransientError(`deployment operation ${operation} of ${model}@${version} is gone`, { hint: 'retry: the deployment is started again' });
      }
      return mapError(err, `getOperation ${operation}`);
    }
    if (!op.done) throw new OperationPendingError(operation, `deployment of ${model} version ${version}`);
    await this.deps.objectStore.delete(uri);
    if (op.error) {
      throw new BackendError(`deployment of ${model} version ${version} failed: ${op.error.message ?? `code ${op.error.code}`}`, {
        hint: 'the serving container must answer its health route; see the endpoint logs in Cloud Logging', details: { operation },
      });
    }
    const res = op.result as protos.google.cloud.aiplatform.v1.IDeployModelResponse | undefined;
    const d = res?.deployedModel;
    if (!d?.id) throw new BackendError(`deployment operation ${operation} finished without a deployed model`, { hint: 'retry the deployment' });
    return { deployedModelId: String(d.id), model, version, createTime: timestamp(d.createTime, this.deps.now?.() ?? new Date()) };
  }

  async setTraffic(model: string, split: Record<string, number>): Promise<void> {
    this.described.delete(model);
    const e = await this.getEndpoint(model);
    if (!e) throw new NotFoundError(`Vertex AI endpoint ${this.endpointName(model)} does not exist`, { hint: 'apply the Terraform (module vertex_ai)' });
    const ids = (e.deployedModels ?? []).map((d) => String(d.id));
    const checked = checkSplit(split, ids);
    try {
      await this.deps.endpoints.updateEndpoint({ endpoint: { name: this.endpointName(model), trafficSplit: checked }, updateMask: { paths: ['traffic_split'] } });
    } catch (err) {
      return mapError(err, `updateEndpoint ${this.endpointName(model)} traffic_split`);
    }
  }

  async undeploy(model: string, deployedModelId: string): Promise<void> {
    this.described.delete(model);
    const uri = this.markerUri(model, 'undeploy', deployedModelId);
    const pending = await this.marker(uri);
    if (pending) {
      let op: Awaited<ReturnType<EndpointClient['checkUndeployModelProgress']>>;
      try {
        op = await this.deps.endpoints.checkUndeployModelProgress(pending.operation);
      } catch (err) {
        if ((err as { code?: number }).code !== NOT_FOUND) return mapError(err, `getOperation ${pending.operation}`);
        await this.deps.objectStore.delete(uri);
        return this.undeploy(model, deployedModelId);
      }
      if (!op.done) throw new OperationPendingError(pending.operation, `undeployment of ${deployedModelId} from ${model}'s endpoint`);
      await this.deps.objectStore.delete(uri);
      if (op.error) throw new BackendError(`undeployment of ${deployedModelId} failed: ${op.error.message ?? `code ${op.error.code}`}`, { hint: 'retry' });
      return;
    }
    const e = await this.getEndpoint(model);
    if (!e || !(e.deployedModels ?? []).some((d) => String(d.id) === deployedModelId)) return;
    const traffic = Number(e.trafficSplit?.[deployedModelId] ?? 0);
    if (traffic > 0 && (e.deployedModels ?? []).length > 1) {
      throw new ValidationError(`${model}: deployed model ${deployedModelId} still takes ${traffic}% of the traffic`, {
        hint: 'shift its traffic to other deployed models first (setTraffic), then undeploy it',
      });
    }
    let name: string;
    try {
      const [op] = await this.deps.endpoints.undeployModel({ endpoint: this.endpointName(model), deployedModelId });
      name = String(op.name);
    } catch (err) {
      return mapError(err, `undeployModel ${deployedModelId}`);
    }
    await this.deps.objectStore.put(uri, JSON.stringify({ operation: name, model, deployedModelId }), { contentType: 'application/json' });
    throw new OperationPendingError(name, `undeployment of ${deployedModelId} from ${model}'s endpoint`);
  }

  async describe(model: string): Promise<EndpointState | null> {
    checkModelName(model);
    const e = await this.getEndpoint(model);
    const mine = e ? this.deployedOf(model, e) : [];
    if (!e || mine.length === 0) return null;
    const ids = new Set(mine.map((d) => d.deployedModelId));
    return {
      model, endpoint: this.endpointName(model),
      deployedModels: mine.map((d) => ({ ...d, health: 'healthy', restarts: 0 })), // Vertex lists a model only once its deployment succeeded
      trafficSplit: Object.fromEntries(Object.entries(e.trafficSplit ?? {}).filter(([id]) => ids.has(id)).map(([k, v]) => [k, Number(v)])),
    };
  }

  async predict(model: string, instances: unknown[], opts: { requestId?: string } = {}): Promise<Prediction> {
    checkModelName(model);
    let body: protos.google.api.IHttpBody;
    try {
      [body] = await this.deps.prediction.rawPredict({
        endpoint: this.endpointName(model),
        httpBody: { contentType: 'application/json', data: Buffer.from(JSON.stringify({ instances })) },
      }, opts.requestId ? { otherArgs: { headers: { 'X-Request-Id': opts.requestId } } } : {});
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === NOT_FOUND || code === 9) throw new NotFoundError(`model ${model} is not deployed on ${this.endpointName(model)}`, { hint: 'deploy a version first: `ctloop deploy M@version`', cause: err });
      if (code === 3) throw new ValidationError(`${model} refused the instances: ${(err as Error).message}`, { hint: "check the instances match the model's features", cause: err });
      return mapError(err, `rawPredict ${this.endpointName(model)}`);
    }
    const parsed = JSON.parse(Buffer.from(body.data ?? []).toString('utf8')) as { predictions?: unknown; deployedModelId?: unknown };
    if (!Array.isArray(parsed.predictions)) throw new BackendError(`${model}'s endpoint answered without predictions`, { hint: 'the server must answer {"predictions": [...]}' });
    const d = await this.attribute(model, typeof parsed.deployedModelId === 'string' ? parsed.deployedModelId : null);
    return { predictions: parsed.predictions.map(Number), model, version: d.version, deployedModelId: d.deployedModelId };
  }

  /** The endpoint's deployed models for attribution, read at most every 10 s (this instance's changes clear it). */
  private readonly described = new Map<string, { at: number; state: Promise<EndpointState | null> }>();

  private async attribute(model: string, fromBody: string | null): Promise<{ deployedModelId: string; version: string }> {
    const now = Date.now();
    let hit = this.described.get(model);
    if (!hit || now - hit.at > 10_000) {
      hit = { at: now, state: this.describe(model) };
      hit.state.catch(() => this.described.delete(model));
      this.described.set(model, hit);
    }
    const state = await hit.state;
    const all = state?.deployedModels ?? [];
    const byBody = fromBody ? all.find((d) => d.deployedModelId === fromBody) : undefined;
    if (byBody) return byBody;
    const serving = all.filter((d) => (state?.trafficSplit[d.deployedModelId] ?? 0) > 0);
    return serving.length === 1 ? serving[0]! : { deployedModelId: 'unknown', version: 'unknown' };
  }
}
