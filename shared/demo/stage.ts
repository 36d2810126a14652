import type { Runtime } from '../runtime/runtime.js';
import type { LocalScheduler } from '../runtime/local-scheduler.js';
import type { Replay, ReplayWeek } from '../../examples/flights/replay.js';
import type { Scenario } from '../../examples/flights/scenario.js';
import type { EventWatch } from './watch.js';

/**
 * The demo is a list of stages (shared/demo/stages.ts), each one concept with a clear contract: `run(ctx)` does its
 * part of the loop through the same events and functions as production, reports progress, narrates, and returns a
 * summary for the final table. Stages share the context below; later stages read what earlier ones recorded.
 */
export interface DemoOptions {
  quick: boolean;
  /** Departures replayed (a deterministic sample of the 3M). */
  flightRows: number;
  /** Rows per published feature event (at most 10,000). */
  batch: number;
  scenario: Scenario | null;
  /** Where the drift-check schedules come from (same format and generator as infra/schedules.json). */
  schedules: string;
  /** Longest wait for one training run, ms. */
  trainingTimeoutMs: number;
}

export interface StageSummary {
  /** One line: what the stage achieved. */
  headline: string;
}

export interface StageProgress {
  /** Progress inside the stage (e.g. week 3 of 20). */
  update(done: number, total: number, note?: string): void;
}

export interface DemoStage {
  name: string;
  run(ctx: DemoContext, progress: StageProgress): Promise<StageSummary>;
}

/**
 * A hook run for every simulated week after the first model exists (serving traffic, delayed labels, ...): what
 * plugs into the replay without its own stage. It runs when the week begins (the simulated clock at its start),
 * before the week's data is ingested and its scheduled jobs fire.
 */
export interface WeekHook {
  name: string;
  onWeek(ctx: DemoContext, week: ReplayWeek): Promise<void>;
}

export interface ModelOutcome {
  version: string;
  runId: string;
  trigger: string;
  blessed: boolean;
  aliases: string[];
  metrics: Record<string, number>;
  failedChecks: { check: string; slice: string | null; detail: string }[];
  /** Simulated time the request was made. */
  requestedAt: Date;
}

export interface DriftOutcome {
  reportId: string;
  window: { start: string; end: string };
  datasetDrift: boolean;
  shareDrifted: number;
  drifted: string[];
  decision: string;
}

/** One rollout of the delivery function, as it ended (or stands). */
export interface DeploymentOutcome {
  version: string;
  /** The champion it was compared with (null for the first deployment). */
  championVersion: string | null;
  canaryPercent: number;
  phase: string;
  reason: string | null;
  checks: { check: string; status: string; detail: string }[];
  /** Simulated times. */
  requestedAt: string;
  decidedAt: string | null;
}

export interface ServingOutcome {
  /** Instances answered through /predict, and those that failed. */
  predictions: number;
  failed: number;
  /** Predictions that received their delayed label. */
  labelled: number;
  byVersion: Record<string, number>;
  /** The first answer, as /predict gave it. */
  sample: { requestId: string; model: { name: string; version: string }; prediction: number; at: string } | null;
}

/** Live performance per version from the delayed labels (`ctloop monitor`). */
export interface LiveOutcome {
  version: string;
  predictions: number;
  labelled: number;
  auc: number | null;
  logLoss: number | null;
}

/** What the stages found, for the summary table. */
export interface DemoRecord {
  models: ModelOutcome[];
  drift: DriftOutcome[];
  deployments: DeploymentOutcome[];
  serving: ServingOutcome;
  live: LiveOutcome[];
  /** Drift report received → new model registered (wall-clock ms), per drift-triggered retrain. */
  driftToRegisteredMs: number[];
  /** Drift report received → the new model serving live traffic as canary (wall-clock ms), per blessed drift retrain. */
  driftToServingMs: number[];
  /** The HTML report written at the end (ctloop report). */
  report: string | null;
  stages: { name: string; seconds: number; headline: string }[];
}

export interface DemoContext {
  rt: Runtime;
  opts: DemoOptions;
  /** Working files of the demo (inside the state directory). */
  dir: string;
  /** The simulated clock: where the replay stands. */
  clock: { now: Date };
  scheduler: LocalScheduler;
  watch: EventWatch;
  narrate(line: string): void;
  replay: Replay | null;
  /** Set by the first-model stage: the simulated date from which weeks run with drift checks. */
  firstModelAt: Date | null;
  weekHooks: WeekHook[];
  record: DemoRecord;
  /** Run when the stages end, whatever their outcome (servers and logs opened by hooks). */
  closers: (() => Promise<void>)[];
}
