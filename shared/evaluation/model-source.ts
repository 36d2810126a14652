import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { didYouMean } from '../closest.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { evaluationSpecSchema, type EvaluationSpec } from './gate-spec.js';

/**
 * What evaluation needs of a model's configuration: its slices, minimum slice size and gate, and the image that
 * serves it (the trainer image: the same xgboost build trains and serves).
 *
 * TODO(lead): at merge, build this from shared/models/config.ts (`loadModels`, whose `gate` then uses
 * `gateSpecSchema`) instead of reading models.yaml here; this reader validates only the keys evaluation uses.
 */
export interface ModelEvaluationConfig {
  evaluation: EvaluationSpec;
  servingImage: string | null;
}

export type ModelEvaluationSource = (model: string) => Promise<ModelEvaluationConfig>;

const modelEntry = z.looseObject({
  name: z.string(),
  slices: z.unknown().optional(),
  minSliceSize: z.unknown().optional(),
  gate: z.unknown().optional(),
  trainer: z.looseObject({ image: z.string().optional() }).optional(),
});
const file = z.looseObject({ models: z.array(modelEntry) });

export function modelsFileSource(path: string, defaults: { trainerImage?: string; project?: string; region?: string } = {}): ModelEvaluationSource {
  return async (model) => {
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new NotFoundError(`models file ${path} does not exist`, { hint: 'create models.yaml next to features.yaml, or set CTLOOP_MODELS' });
      throw err;
    });
    const parsed = file.safeParse(parseYaml(text));
    if (!parsed.success) throw new ValidationError(`${path} is not a models file: ${z.prettifyError(parsed.error)}`, { hint: 'see models.yaml in the repository root' });
    const names = parsed.data.models.map((m) => m.name);
    const m = parsed.data.models.find((x) => x.name === model);
    if (!m) throw new NotFoundError(`model ${model} is not in ${path}${didYouMean(model, names)}`, { hint: `models defined: ${names.join(', ')}` });
    const spec = evaluationSpecSchema.safeParse({ slices: m.slices, minSliceSize: m.minSliceSize, gate: m.gate });
    if (!spec.success) {
      throw new ValidationError(`model ${model} in ${path}: ${spec.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { hint: 'fix slices, minSliceSize or gate (see shared/evaluation/gate-spec.ts)' });
    }
    const image = m.trainer?.image ?? defaults.trainerImage ?? null;
    return {
      evaluation: spec.data,
      servingImage: image === null ? null : image.replaceAll('${project}', defaults.project ?? '${project}').replaceAll('${region}', defaults.region ?? '${region}'),
    };
  };
}
