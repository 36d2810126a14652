import type { Endpoint, Prediction } from '../ports/endpoint.js';
import type { Predictor } from './predictor.js';

/**
 * `/predict` in front of the loop's endpoint: a model with deployed versions is answered by the endpoint (its traffic
 * split, canary included, chosen per request id), so the serving log attributes each prediction to the deployed
 * model that made it and the canary decision reads live signals. A model nothing has deployed yet (trained and
 * registered, no rollout) is answered by `fallback`, the registry's version for it (its champion).
 */
export class EndpointFirstPredictor implements Predictor {
  constructor(private readonly endpoint: Endpoint, private readonly fallback: Predictor | null) {}

  async predict(model: string, instances: unknown[], opts: { requestId?: string } = {}): Promise<Prediction> {
    const state = await this.endpoint.describe(model);
    if (state && Object.values(state.trafficSplit).some((p) => p > 0)) return this.endpoint.predict(model, instances, opts);
    if (this.fallback) return this.fallback.predict(model, instances, opts);
    return this.endpoint.predict(model, instances, opts);
  }
}
