import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ValidationError } from '../errors.js';

/**
 * What serving needs to know of a model: the feature service whose features are fetched from the online store at
 * predict time, and where each join key comes from in an instance (`keys`: join key → instance field, the model's
 * `spine.keys`, e.g. {airport: origin}; a join key with no entry is read from the field of the same name).
 */
export interface ServedModelSpec {
  name: string;
  featureService: string | null;
  keys: Record<string, string>;
}

// Only the fields serving reads; the models file's own schema (shared/models/config.ts) validates the rest.
const fileSchema = z.object({
  models: z.array(z.looseObject({
    name: z.string().min(1),
    featureService: z.string().min(1).optional(),
    spine: z.looseObject({ keys: z.record(z.string(), z.string()).optional() }).optional(),
  })),
});

/** `models.yaml` beside the feature definitions. */
export function modelsFileBeside(featuresFile: string): string {
  return join(dirname(featuresFile), 'models.yaml');
}

/** The serving view of every model in a models file; an absent file means no model fetches online features. */
export async function loadServedModels(path: string): Promise<Map<string, ServedModelSpec>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const parsed = fileSchema.safeParse(path.endsWith('.json') ? JSON.parse(text) : parseYaml(text));
  if (!parsed.success) {
    throw new ValidationError(`${path} is invalid:\n${z.prettifyError(parsed.error)}`, { hint: 'fix the models file (see models.yaml in the repository root)' });
  }
  return new Map(parsed.data.models.map((m) => [m.name, { name: m.name, featureService: m.featureService ?? null, keys: m.spine?.keys ?? {} }]));
}

/** A model absent from the models file is served on the raw values of its instances alone. */
export function specOf(models: Map<string, ServedModelSpec>, name: string): ServedModelSpec {
  return models.get(name) ?? { name, featureService: null, keys: {} };
}
