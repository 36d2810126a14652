import { z } from 'zod';
import { didYouMean } from '../closest.js';

/**
 * What a model's evaluation is configured with (the `slices`, `minSliceSize` and `gate` keys of a model in
 * models.yaml). The models loader imports these schemas; every object is strict and an unknown key names the
 * closest valid one, as in features.yaml.
 *
 * ```yaml
 * slices: [origin]
 * minSliceSize: 200
 * gate:
 *   thresholds:                      # absolute bounds on the candidate's overall metrics
 *     auc: { min: 0.55 }
 *     log_loss: { max: 0.6 }
 *   regression:                      # against the champion, overall and on required slices; no champion -> skipped
 *     auc: { maxDrop: 0.01 }         # absolute slack: candidate >= champion - 0.01
 *     log_loss: { maxRelativeIncrease: 0.02 }   # relative slack: candidate <= champion * 1.02
 *   requiredSlices: [{ origin: SFO }]           # present with >= minSliceSize rows, and pass the regression checks
 * ```
 */

export const metricNames = ['auc', 'log_loss', 'accuracy', 'ece'] as const;
export type MetricName = (typeof metricNames)[number];

/** Which way is better, per metric: regression slack is a drop for the first, an increase for the second. */
export const higherIsBetter: Record<MetricName, boolean> = { auc: true, accuracy: true, log_loss: false, ece: false };

function strict<S extends z.ZodRawShape>(shape: S) {
  const valid = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      return iss.keys.map((k) => {
        const hint = didYouMean(k, valid);
        return `unknown key "${k}"${hint || `; valid keys here: ${valid.join(', ')}`}`;
      }).join('; ');
    },
  });
}

/** A record keyed by metric name: an unknown metric is an error naming the closest one. */
function byMetric<S extends z.ZodType>(value: S) {
  return z.record(z.string(), value).superRefine((rec, ctx) => {
    for (const k of Object.keys(rec)) {
      if (!(metricNames as readonly string[]).includes(k)) {
        const hint = didYouMean(k, metricNames);
        ctx.addIssue({ code: 'custom', path: [k], message: `unknown metric "${k}"${hint || `; metrics: ${metricNames.join(', ')}`}` });
      }
    }
  }).transform((rec) => rec as Partial<Record<MetricName, z.infer<S>>>);
}

const threshold = strict({ min: z.number().finite().optional(), max: z.number().finite().optional() })
  .refine((t) => t.min !== undefined || t.max !== undefined, { message: 'a threshold needs min, max or both' })
  .refine((t) => t.min === undefined || t.max === undefined || t.min <= t.max, { message: 'threshold min is above max' });

const slack = z.number().finite().nonnegative();
const regression = strict({
  maxDrop: slack.optional(),
  maxRelativeDrop: slack.optional(),
  maxIncrease: slack.optional(),
  maxRelativeIncrease: slack.optional(),
}).refine((r) => Object.values(r).filter((v) => v !== undefined).length === 1, {
  message: 'a regression check takes exactly one of maxDrop, maxRelativeDrop (higher-is-better metrics) or maxIncrease, maxRelativeIncrease (lower-is-better metrics)',
});
export type RegressionSpec = z.infer<typeof regression>;

/** A slice named by one column and its value; YAML numbers and booleans are read as the CSV's text. */
const requiredSlice = z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]).transform(String))
  .refine((r) => Object.keys(r).length === 1, { message: 'a required slice names exactly one column and value, e.g. { origin: SFO }' })
  .transform((r) => {
    const [column, value] = Object.entries(r)[0]!;
    return { column, value };
  });
export type RequiredSlice = z.infer<typeof requiredSlice>;

export const gateSpecSchema = strict({
  thresholds: byMetric(threshold).default({}),
  regression: byMetric(regression).default({}).superRefine((rec, ctx) => {
    for (const [m, r] of Object.entries(rec)) {
      if (!r || !(metricNames as readonly string[]).includes(m)) continue;
      const up = higherIsBetter[m as MetricName];
      const wrong = up ? (r.maxIncrease ?? r.maxRelativeIncrease) : (r.maxDrop ?? r.maxRelativeDrop);
      if (wrong !== undefined) {
        ctx.addIssue({ code: 'custom', path: [m], message: `${m} is ${up ? 'higher' : 'lower'}-is-better: use ${up ? 'maxDrop or maxRelativeDrop' : 'maxIncrease or maxRelativeIncrease'}` });
      }
    }
  }),
  requiredSlices: z.array(requiredSlice).default([]),
});
export type GateSpec = z.infer<typeof gateSpecSchema>;

export const slicesSchema = z.array(z.string().min(1)).default([]);
export const minSliceSizeSchema = z.number().int().positive().default(200);

/** The evaluation part of a model: its slices, their minimum size and the gate; required slices must be sliced on. */
export const evaluationSpecSchema = strict({
  slices: slicesSchema,
  minSliceSize: minSliceSizeSchema,
  gate: gateSpecSchema.default({ thresholds: {}, regression: {}, requiredSlices: [] }),
}).superRefine((s, ctx) => {
  s.gate.requiredSlices.forEach((r, i) => {
    if (!s.slices.includes(r.column)) {
      ctx.addIssue({ code: 'custom', path: ['gate', 'requiredSlices', i], message: `required slice column "${r.column}" is not in slices [${s.slices.join(', ')}]${didYouMean(r.column, s.slices)}` });
    }
  });
});
export type EvaluationSpec = z.infer<typeof evaluationSpecSchema>;
