import { access } from 'node:fs/promises';
import type { FeatureRepo } from '../features/definitions.js';
import { loadModels } from '../models/config.js';

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

/** The serving view of every model in a models file (the one loader, shared/models/config.ts); an absent file means no model fetches online features. */
export async function loadServedModels(path: string, repo?: FeatureRepo): Promise<Map<string, ServedModelSpec>> {
  if (!(await access(path).then(() => true, () => false))) return new Map();
  const catalog = await loadModels(path, repo);
  return new Map(catalog.models.map((m) => [m.name, { name: m.name, featureService: m.featureService, keys: m.spine.keys }]));
}

/** A model absent from the models file is served on the raw values of its instances alone. */
export function specOf(models: Map<string, ServedModelSpec>, name: string): ServedModelSpec {
  return models.get(name) ?? { name, featureService: null, keys: {} };
}
