import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { didYouMean } from '../closest.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { isIdentifier } from '../sql/identifiers.js';
import type { FeatureRepo } from '../features/definitions.js';
import { gateSpecSchema, type EvaluationSpec } from '../evaluation/gate-spec.js';

/**
 * Models in configuration (`models.yaml`, next to features.yaml): what a model is trained on (a feature service
 * joined point-in-time onto a labelled spine view), by which trainer, on which time split, sliced how, and gated by
 * what. Every object is strict: an unknown key is an error naming the closest valid key.
 */

function strict<S extends z.ZodRawShape>(shape: S) {
  const valid = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      return iss.keys.map((k) => `unknown key "${k}"${didYouMean(k, valid) || `; valid keys here: ${valid.join(', ')}`}`).join('; ');
    },
  });
}

const ident = (what: string) => z.string().refine(isIdentifier, { message: `${what} must be an identifier (letters, digits, _; not a SQL keyword)` });

/** Durations: "90s", "15m", "6h", "7d", "2w" or seconds; must be positive. */
const duration = z.union([
  z.number().int().positive(),
  z.string().regex(/^[1-9]\d*(s|m|h|d|w)$/, 'duration must look like 30s, 15m, 6h, 90d or 2w').transform((s) => {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[s.slice(-1) as 's'];
    return Number(s.slice(0, -1)) * unit;
  }),
], { error: 'duration must look like 30s, 15m, 6h, 90d or 2w (or a positive number of seconds)' });

const trainer = strict({
  /** Vertex AI container image; `${project}`, `${region}` are substituted; default: CTLOOP_TRAINER_IMAGE. */
  image: z.string().min(1).optional(),
  /** Local runs: the program and its leading arguments, run from the directory of models.yaml. */
  command: z.array(z.string().min(1)).min(1),
  machineType: z.string().regex(/^[a-z0-9][a-z0-9-]+$/, 'machine type such as n1-standard-4').default('n1-standard-4'),
  /** Arguments appended after `command` locally and passed as the container's args on Vertex AI. */
  args: z.array(z.string()).default([]),
  timeoutSeconds: z.number().int().positive().max(7 * 86_400).default(3600),
});

const split = strict({ train: duration, validation: duration, test: duration });

const spine = strict({
  /** Feature view whose rows are the labelled examples (one per row; its timestamp is the example's time). */
  view: ident('spine view'),
  /** Label column (a feature of the spine view), 0/1. */
  label: ident('label'),
  /** Columns of the spine view passed to the trainer besides keys, timestamp and label (default: all features). */
  features: z.array(ident('spine feature')).optional(),
  /** Extra join keys derived from spine columns for the service's views, e.g. {airport: origin}. */
  keys: z.record(z.string(), ident('spine column')).default({}),
});

/** The gate (absolute thresholds, regression against the champion, required slices): shared/evaluation/gate-spec.ts. */
const gate = gateSpecSchema.default({ thresholds: {}, regression: {}, requiredSlices: [] });

const model = strict({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'model names are lower-case letters, digits and _ (start with a letter)'),
  description: z.string().optional(),
  featureService: ident('feature service'),
  spine,
  trainer,
  /** Time windows ending at the request time, in the order train → validation → test (test is the latest). */
  split,
  slices: z.array(ident('slice column')).default([]),
  minSliceSize: z.number().int().positive().default(200),
  gate,
});

export const modelsFileSchema = strict({ models: z.array(model).min(1) });

export type ModelSpec = z.infer<typeof model>;
export type ModelsFileInput = z.input<typeof modelsFileSchema>;

export interface ModelCatalog {
  models: ModelSpec[];
  /** Directory of the models file: local trainer commands run there. */
  dir: string;
  model(name: string): ModelSpec;
}

export function parseModels(raw: unknown, dir: string, repo?: FeatureRepo, source = 'models'): ModelCatalog {
  const res = modelsFileSchema.safeParse(raw);
  if (!res.success) {
    const issues = res.error.issues.map((i) => (i.code === 'unrecognized_keys' && i.keys.length === 1 ? { ...i, path: [...i.path, i.keys[0]!] } : i));
    throw new ValidationError(`${source} is invalid:\n${z.prettifyError(new z.ZodError(issues))}`, {
      hint: 'fix the file; see models.yaml in the repository root for a complete example',
      details: { issues: res.error.issues },
    });
  }
  const models = res.data.models;
  const dup = models.find((m, i) => models.findIndex((x) => x.name === m.name) !== i);
  if (dup) throw new ValidationError(`${source}: model "${dup.name}" is defined twice`, { hint: 'give every model a unique name' });
  for (const m of models) {
    // Required slices must be sliced on (the rule evaluationSpecSchema applies in shared/evaluation).
    const r = m.gate.requiredSlices.find((x) => !m.slices.includes(x.column));
    if (r) {
      throw new ValidationError(`${source}: model "${m.name}": required slice column "${r.column}" is not in slices [${m.slices.join(', ')}]${didYouMean(r.column, m.slices)}`, { hint: 'add the column to slices, or drop the required slice' });
    }
  }
  if (repo) for (const m of models) checkAgainstRepo(m, repo, source);
  const byName = new Map(models.map((m) => [m.name, m]));
  return {
    models,
    dir,
    model(name) {
      const m = byName.get(name);
      if (!m) {
        throw new NotFoundError(`model "${name}" is not defined in ${source}${didYouMean(name, [...byName.keys()])}`, {
          hint: `defined models: ${[...byName.keys()].join(', ')}`,
        });
      }
      return m;
    },
  };
}

/** The spine view, label and service must exist, so a typo fails at load rather than at the first training request. */
function checkAgainstRepo(m: ModelSpec, repo: FeatureRepo, source: string): void {
  const where = `${source}: model ${m.name}`;
  const view = repo.views.find((v) => v.name === m.spine.view);
  if (!view) {
    throw new ValidationError(`${where}: spine view "${m.spine.view}" is not a feature view${didYouMean(m.spine.view, repo.views.map((v) => v.name))}`, {
      hint: `feature views: ${repo.views.map((v) => v.name).join(', ')}`,
    });
  }
  if (!repo.services.some((s) => s.name === m.featureService)) {
    throw new ValidationError(`${where}: feature service "${m.featureService}" is not defined${didYouMean(m.featureService, repo.services.map((s) => s.name))}`, {
      hint: `feature services: ${repo.services.map((s) => s.name).join(', ')}`,
    });
  }
  const cols = [...view.entity.joinKeys.map((k) => k.name), ...view.features.map((f) => f.name)];
  for (const [what, c] of [['label', m.spine.label], ...(m.spine.features ?? []).map((f) => ['spine feature', f]), ...Object.values(m.spine.keys).map((c) => ['key source', c])] as [string, string][]) {
    if (!cols.includes(c)) {
      throw new ValidationError(`${where}: ${what} "${c}" is not a column of view ${view.name}${didYouMean(c, cols)}`, { hint: `its columns: ${cols.join(', ')}` });
    }
  }
}

export async function loadModels(path: string, repo?: FeatureRepo): Promise<ModelCatalog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new NotFoundError(`cannot read model definitions at ${path}`, { hint: 'create models.yaml next to features.yaml or set CTLOOP_MODELS', cause: err });
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ValidationError(`cannot parse ${path}: ${(err as Error).message}`, { hint: 'check the YAML/JSON syntax at the position given' });
  }
  return parseModels(raw, dirname(path), repo, path);
}

/** The evaluation part of a model (slices, their minimum size, the gate), as shared/evaluation reads it. */
export function evaluationSpecOf(m: ModelSpec): EvaluationSpec {
  return { slices: m.slices, minSliceSize: m.minSliceSize, gate: m.gate };
}
