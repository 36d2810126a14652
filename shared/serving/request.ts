import { z } from 'zod';
import { ValidationError } from '../errors.js';

/** Largest number of instances in one request (Vertex AI's shared endpoints also cap a body at 1.5 MB). */
export const MAX_INSTANCES = 1000;

const value = z.union([z.string().max(1024), z.number(), z.boolean(), z.null()], { error: 'must be a string, a number, true/false or null' });

/** One instance: entity keys (features are fetched from the online store) and/or raw feature values, flat. */
export const instanceSchema = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'field names are identifiers (letters, digits, _)'), value, {
  error: 'must be an object of field → value',
});

export const predictRequestSchema = z.strictObject({
  /** Which model (default: the one model served). */
  model: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'model names are lower-case letters, digits and _').optional(),
  instances: z.array(instanceSchema, { error: 'instances must be an array of objects' })
    .min(1, 'instances must hold at least one instance').max(MAX_INSTANCES, `at most ${MAX_INSTANCES} instances per request`),
  parameters: z.record(z.string(), z.unknown()).optional(),
});

export type Instance = z.infer<typeof instanceSchema>;
export type PredictRequest = z.infer<typeof predictRequestSchema>;

/** `instances[2].origin` from a zod path. */
export function fieldPath(path: PropertyKey[]): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '') || '(body)';
}

/** Parse a request body; a bad one is a ValidationError naming every bad field (details.fields). */
export function parsePredictRequest(body: unknown): PredictRequest {
  const r = predictRequestSchema.safeParse(body);
  if (r.success) return r.data;
  const fields = r.error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys.map((k) => fieldPath([...i.path, k])) : [fieldPath(i.path)]));
  const lines = r.error.issues.slice(0, 10).map((i) => `${i.code === 'unrecognized_keys' ? i.keys.map((k) => fieldPath([...i.path, k])).join(', ') : fieldPath(i.path)}: ${i.code === 'unrecognized_keys' ? 'unknown field' : i.message}`);
  throw new ValidationError(`bad predict request: ${lines.join('; ')}${r.error.issues.length > 10 ? ` (and ${r.error.issues.length - 10} more)` : ''}`, {
    hint: 'send {"model": "<name>", "instances": [{"<field>": value, ...}]}: entity keys and/or raw feature values per instance',
    details: { fields: [...new Set(fields)] },
  });
}
