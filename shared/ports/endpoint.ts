import { TransientError } from '../errors.js';

/**
 * Endpoint port: where registered model versions are deployed and answer predictions. One endpoint per model.
 * Adapters: embedded (one supervised model-server process per deployed version, traffic split by weight with a
 * per-request deterministic choice) and Vertex AI endpoints (deployModel / updateEndpoint(traffic_split) /
 * undeployModel / rawPredict).
 *
 * Rules every adapter keeps (test/contract/endpoint.contract.ts checks them):
 * - `deploy` gives the new version `trafficPercent` and scales the existing split down proportionally so the split
 *   sums to 100 (a first deployment takes 100 whatever is asked).
 * - `setTraffic` takes the complete split (deployed model id → percent, summing to 100).
 * - `undeploy` of a model still carrying traffic is refused (shift it away first) unless it is the last one deployed;
 *   of an unknown id is a no-op.
 * - `predict` with the same request id reaches the same deployed model while the split is unchanged (embedded;
 *   Vertex splits by its own draw).
 * - `describe` is null while nothing of the model is deployed.
 */
export interface DeployedModel {
  /** The endpoint's id for this deployment (Vertex's deployedModel.id; embedded: `<version>-<n>`). */
  deployedModelId: string;
  model: string;
  version: string;
  createTime: string;
}

export type DeployedModelHealth = 'starting' | 'healthy' | 'unhealthy' | 'restarting';

export interface DeployedModelState extends DeployedModel {
  health: DeployedModelHealth;
  /** Times the adapter restarted this deployment's server after a crash (embedded; 0 on Vertex). */
  restarts: number;
  /** Why it is not healthy, when it is not. */
  detail?: string;
}

export interface EndpointState {
  model: string;
  /** Adapter-specific endpoint address (Vertex resource name; embedded: `embedded://<model>`). */
  endpoint: string;
  deployedModels: DeployedModelState[];
  /** deployed model id → percent of traffic. */
  trafficSplit: Record<string, number>;
}

export interface Prediction { predictions: number[]; model: string; version: string; deployedModelId: string }
export interface Endpoint {
  /** Deploy a registered version beside what serves; `trafficPercent` for it, the rest kept by the current split. */
  deploy(model: string, version: string, opts: { trafficPercent: number }): Promise<DeployedModel>;
  setTraffic(model: string, split: Record<string /* deployedModelId */, number>): Promise<void>;
  undeploy(model: string, deployedModelId: string): Promise<void>;
  describe(model: string): Promise<EndpointState | null>;  // deployed models, split, health
  predict(model: string, instances: unknown[], opts?: { requestId?: string }): Promise<Prediction>;
}

/**
 * A long-running endpoint operation (Vertex deployModel / undeployModel) was started or is still running: nothing is
 * awaited inside one invocation. Calling the same method again later resumes the operation by its name (kept by the
 * adapter) and returns its result once it is done.
 */
export class OperationPendingError extends TransientError {
  constructor(readonly operation: string, what: string) {
    super(`${what} is still running (operation ${operation})`, { hint: 'call again later: the operation is resumed by name, not started twice' });
  }
}
