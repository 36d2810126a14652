import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../errors.js';

/**
 * What runs on a timer in GCP (Cloud Scheduler → Pub/Sub): a drift check per feature view, optional scheduled
 * retraining per model, the training reconciler and the deployment reconciler's tick. Kept in `infra/schedules.json`; `ctloop infra gen` turns it into scheduler jobs whose messages
 * are validated against the event catalog, so a job cannot send a payload the function would misread.
 */

const cron = z
  .string()
  .regex(/^(\S+\s+){4}\S+$/, 'schedule must be a 5-field cron expression such as "0 6 * * *"');
const positiveSeconds = z.number().int().positive();

const driftDefaults = z.object({
  schedule: cron.default('0 6 * * *'),
  /** Trailing window checked at each run; the function ends it at the message's publish time. */
  windowSeconds: positiveSeconds.default(86_400),
  preset: z.enum(['evidently', 'vertex']).optional(),
});

const driftOverride = z.object({
  enabled: z.boolean().default(true),
  /**
   * The model whose retraining this view's drift requests (models.yaml), e.g. flight_delay for the flights view.
   * Absent: the drift policy names the view itself as the model.
   */
  model: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'model names are lower-case letters, digits and _').optional(),
  schedule: cron.optional(),
  windowSeconds: positiveSeconds.optional(),
  preset: z.enum(['evidently', 'vertex']).optional(),
});

const retraining = z.object({
  model: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'model names are lower-case letters, digits, _ and -'),
  schedule: cron,
  /** Optional trailing training window; absent = the trainer's default. */
  windowSeconds: positiveSeconds.optional(),
});

/**
 * The safety net of training completion: `{"reconcile": true}` to the Vertex AI job-state topic, so every unfinished
 * run is looked at even when its job's log line or its completion message was lost (shared/training/job-state.ts).
 */
const trainingReconciler = z.object({
  enabled: z.boolean().default(true),
  schedule: cron.default('*/15 * * * *'),
});

export const schedulePlanSchema = z.object({
  timeZone: z.string().min(1).default('Etc/UTC'),
  driftChecks: z
    .object({
      defaults: driftDefaults.default({ schedule: '0 6 * * *', windowSeconds: 86_400 }),
      /** Per-view overrides keyed by feature view name; every view gets a daily check unless disabled here. */
      views: z.record(z.string(), driftOverride).default({}),
    })
    .default({ defaults: { schedule: '0 6 * * *', windowSeconds: 86_400 }, views: {} }),
  retraining: z.array(retraining).default([]),
  trainingReconciler: trainingReconciler.default({ enabled: true, schedule: '*/15 * * * *' }),
  /**
   * The rollout reconciler's tick (deployment.check_requested): resumes endpoint operations and ends canary
   * periods. A canary period ends at the first tick after it is over, so this is the resolution of its length.
   */
  deploymentChecks: z.object({ enabled: z.boolean().default(true), schedule: cron.default('* * * * *') }).default({ enabled: true, schedule: '* * * * *' }),
  /** Daily compaction of yesterday's partition of every offline table and the quarantine (compact-features). */
  compaction: z
    .object({ enabled: z.boolean().default(true), schedule: cron.default('30 2 * * *') })
    .default({ enabled: true, schedule: '30 2 * * *' }),
});

export type SchedulePlan = z.infer<typeof schedulePlanSchema>;
export type SchedulePlanInput = z.input<typeof schedulePlanSchema>;

export function parseSchedulePlan(raw: unknown, source = 'schedules'): SchedulePlan {
  const res = schedulePlanSchema.safeParse(raw);
  if (!res.success) {
    throw new ValidationError(`${source} is invalid:\n${z.prettifyError(res.error)}`, {
      hint: 'fix the file; see infra/README.md ("Schedules") for the format',
    });
  }
  return res.data;
}

export async function loadSchedulePlan(path: string): Promise<SchedulePlan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new NotFoundError(`cannot read schedules at ${path}`, { hint: 'create infra/schedules.json (an empty {} uses the defaults)', cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`cannot parse ${path}: ${(err as Error).message}`, { hint: 'the file must be JSON' });
  }
  return parseSchedulePlan(raw, path);
}
