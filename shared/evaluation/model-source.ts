import { evaluationSpecOf, loadModels } from '../models/config.js';
import type { FeatureRepo } from '../features/definitions.js';
import type { EvaluationSpec } from './gate-spec.js';

/**
 * What evaluation needs of a model's configuration: its slices, minimum slice size and gate, and the image that
 * serves it (the trainer image: the same xgboost build trains and serves). Read from the one models loader
 * (shared/models/config.ts), so training and evaluation can never disagree on a model's definition.
 */
export interface ModelEvaluationConfig {
  evaluation: EvaluationSpec;
  servingImage: string | null;
}

export type ModelEvaluationSource = (model: string) => Promise<ModelEvaluationConfig>;

export function modelsFileSource(path: string, defaults: { trainerImage?: string; project?: string; region?: string; repo?: FeatureRepo } = {}): ModelEvaluationSource {
  return async (model) => {
    const m = (await loadModels(path, defaults.repo)).model(model);
    const image = m.trainer.image ?? defaults.trainerImage ?? null;
    return {
      evaluation: evaluationSpecOf(m),
      servingImage: image === null ? null : image.replaceAll('${project}', defaults.project ?? '${project}').replaceAll('${region}', defaults.region ?? '${region}'),
    };
  };
}
