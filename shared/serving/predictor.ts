/**
 * What `/predict` needs from whatever serves models. `Prediction` is the Endpoint port's type, copied verbatim from
 * the contract of issue 10 (shared/ports/endpoint.ts, written by the delivery work): an `Endpoint` satisfies
 * `Predictor` as it is, so the local endpoint with traffic splitting replaces the single-version predictor at merge.
 * Errors: NotFoundError for a model nothing serves (→ 404), TransientError when nothing can serve now (→ 503),
 * ValidationError for instances the model refuses (→ 400).
 */
export interface Prediction { predictions: number[]; model: string; version: string; deployedModelId: string }

export interface Predictor {
  predict(model: string, instances: unknown[], opts?: { requestId?: string }): Promise<Prediction>;
}
