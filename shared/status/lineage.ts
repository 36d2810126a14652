import { NotFoundError } from '../errors.js';
import type { FeatureRepo } from '../features/definitions.js';
import type { ModelRegistry, ModelVersion } from '../ports/model-registry.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Warehouse } from '../ports/warehouse.js';
import { findRun, type Run } from '../training/runs.js';
import type { LoopExtras } from './extras.js';
import { driftReport, readBaseline, readEvaluation, viewWindowData } from './reads.js';

/**
 * `ctloop why M@ref`: the causal chain of a model version, newest link first — serving ← canary ← evaluation ←
 * training run ← training request ← drift report ← window and baseline ← ingested data. Each link is read from the
 * record that holds it: the registry's lineage (run id, trigger), the run record (request event, correlation id,
 * drift report id, data splits), the drift history, the baseline artifact and the view's rows; deployments from
 * delivery when it exists. A link that does not apply (a manual request has no drift report) or is not recorded says so.
 */
export type Stage = 'serving' | 'canary' | 'evaluation' | 'training run' | 'training request' | 'drift report' | 'window' | 'baseline' | 'data';

export interface LineageLink {
  stage: Stage;
  /** The record's id (event id, run id, report id, baseline id…), null when there is none. */
  id: string | null;
  time: string | null;
  /** One line for people. */
  summary: string;
  /** False when the link is absent (not deployed, manual trigger, not recorded): `summary` says why. */
  present: boolean;
  details: Record<string, unknown>;
}

export interface Lineage {
  model: string;
  version: string;
  aliases: string[];
  correlationId: string | null;
  links: LineageLink[];
}

export interface LineageDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  registry: ModelRegistry;
  repo: FeatureRepo;
  extras: LoopExtras;
}

const absent = (stage: Stage, summary: string): LineageLink => ({ stage, id: null, time: null, summary, present: false, details: {} });

export async function resolveVersion(registry: ModelRegistry, model: string, ref: string): Promise<ModelVersion> {
  const v = await registry.getVersion(model, ref);
  if (v) return v;
  const known = await registry.listVersions(model);
  throw new NotFoundError(`model ${model} has no version or alias "${ref}"`, {
    hint: known.length ? `versions: ${known.map((k) => `${k.version}${k.aliases.length ? ` (${k.aliases.join(', ')})` : ''}`).join(', ')}` : `no versions of ${model} are registered: run \`ctloop models list\``,
  });
}

export async function traceVersion(deps: LineageDeps, model: string, ref: string): Promise<Lineage> {
  const v = await resolveVersion(deps.registry, model, ref);
  const links: LineageLink[] = [...(await deliveryLinks(deps.extras, v))];

  const evaluation = await readEvaluation(deps.objectStore, v.evaluationUri);
  links.push({
    stage: 'evaluation', id: v.evaluationUri, time: v.createdAt, present: true,
    summary: `${v.blessed ? 'blessed' : 'refused'} as version ${v.version}${evaluation ? ` against ${evaluation.championVersion ? `champion v${evaluation.championVersion}` : 'no champion (absolute checks only)'}; ${evaluation.checks.length - evaluation.failedChecks.length}/${evaluation.checks.length} checks passed` : ''}${metricText(v.metrics)}`,
    details: { blessed: v.blessed, metrics: v.metrics, championVersion: evaluation?.championVersion ?? null, failedChecks: evaluation?.failedChecks.map((c) => ({ check: c.check, slice: c.slice, detail: c.detail })) ?? [], evaluationUri: v.evaluationUri },
  });

  const run = await findRun(deps.warehouse, v.lineage.runId);
  links.push(run ? runLink(run, v) : absent('training run', `run ${v.lineage.runId} has no record in _training_runs`));
  const trigger = run?.trigger ?? v.lineage.trigger?.reason ?? null;
  links.push(run
    ? {
      stage: 'training request', id: run.requestEventId, time: run.createdAt, present: true,
      summary: `${trigger} request ${run.requestEventId} (dedup key ${run.requestKey})`,
      details: { trigger, requestKey: run.requestKey, correlationId: run.correlationId, driftReportId: run.driftReportId },
    }
    : absent('training request', 'unknown: the run is not recorded'));

  const reportId = run?.driftReportId ?? v.lineage.trigger?.driftReportId ?? null;
  const report = reportId ? await driftReport(deps.warehouse, reportId) : null;
  if (!reportId) {
    links.push(absent('drift report', `none: the training was requested ${trigger ? `by ${trigger}` : 'without a recorded trigger'}, not by drift`));
  } else if (!report) {
    links.push(absent('drift report', `report ${reportId} is not in the drift history`));
  } else {
    links.push({
      stage: 'drift report', id: report.reportId, time: report.createdAt, present: true,
      summary: `${report.datasetDrift ? 'dataset drift' : 'no dataset drift'} in ${report.view}: ${report.drifted.length}/${report.features} features drifted${report.drifted.length ? ` (${report.drifted.join(', ')})` : ''}, ${report.anomalies} anomalies`,
      details: { view: report.view, datasetDrift: report.datasetDrift, shareDrifted: report.shareDrifted, drifted: report.drifted, reportUri: report.reportUri },
    });
    links.push({ stage: 'window', id: null, time: report.window.end, present: true, summary: `${report.view} ${report.window.start} → ${report.window.end}`, details: { view: report.view, ...report.window } });
    const baseline = await readBaseline(deps.objectStore, report.baselineUri);
    links.push(baseline
      ? {
        stage: 'baseline', id: baseline.id, time: baseline.createdAt, present: true,
        summary: `${baseline.id}: ${baseline.profile.rows} rows of ${baseline.view}, ${baseline.window.start} → ${baseline.window.end}`,
        details: { uri: baseline.uri, view: baseline.view, window: baseline.window, rows: baseline.profile.rows },
      }
      : absent('baseline', `baseline ${report.baselineId} is not at ${report.baselineUri}`));
  }
  links.push(await dataLink(deps, run, report));
  return { model: v.model, version: v.version, aliases: v.aliases, correlationId: run?.correlationId ?? null, links };
}

const metricText = (m: Record<string, number>) => (typeof m.auc === 'number' ? `; test AUC ${m.auc.toFixed(4)}${typeof m.log_loss === 'number' ? `, log loss ${m.log_loss.toFixed(4)}` : ''}` : '');

function runLink(run: Run, v: ModelVersion): LineageLink {
  const seconds = run.launchedAt && run.finishedAt ? (Date.parse(run.finishedAt) - Date.parse(run.launchedAt)) / 1000 : null;
  return {
    stage: 'training run', id: run.runId, time: run.finishedAt ?? run.launchedAt ?? run.createdAt, present: true,
    summary: `run ${run.runId} ${run.state} on ${run.backend}${run.jobId ? ` (job ${run.jobId})` : ''}${seconds !== null ? `, ${seconds.toFixed(1)} s` : ''}`,
    details: { state: run.state, backend: run.backend, jobId: run.jobId, codeVersion: run.codeVersion, modelUri: run.modelUri ?? v.artifactUri, launchedAt: run.launchedAt, finishedAt: run.finishedAt },
  };
}

interface SplitRecord { uri?: string; rows?: number; window?: { start: string; end: string } }

/** The data: the splits the run trained on (snapshots with their rows and windows) and the drift window's ingested rows. */
async function dataLink(deps: LineageDeps, run: Run | null, report: Awaited<ReturnType<typeof driftReport>>): Promise<LineageLink> {
  const splits = ((run?.datasets as { splits?: Record<string, SplitRecord> } | undefined)?.splits) ?? {};
  const parts = Object.entries(splits).map(([k, s]) => `${k} ${s.rows ?? '?'} rows${s.window ? ` (${s.window.start.slice(0, 10)} → ${s.window.end.slice(0, 10)})` : ''}`);
  let window: Awaited<ReturnType<typeof viewWindowData>> | null = null;
  if (report && deps.repo.views.some((x) => x.name === report.view)) window = await viewWindowData(deps.warehouse, deps.repo.view(report.view), report.window);
  if (parts.length === 0 && !window) return absent('data', 'no data snapshots recorded for the run');
  const text = [
    ...(parts.length ? [`trained on ${parts.join(', ')}`] : []),
    ...(window ? [`drift window: ${window.rows} rows of ${report!.view} ingested ${window.firstIngestedAt ?? '?'} → ${window.lastIngestedAt ?? '?'}`] : []),
  ].join('; ');
  return {
    stage: 'data', id: null, time: window?.lastIngestedAt ?? null, present: true, summary: text,
    details: { splits, ...(window ? { driftWindow: { view: report!.view, ...report!.window, ...window } } : {}) },
  };
}

/** Serving and canary links from delivery; "no deployments yet" where delivery is absent or has none for the model. */
async function deliveryLinks(extras: LoopExtras, v: ModelVersion): Promise<LineageLink[]> {
  const [endpoints, rollouts] = await Promise.all([extras.endpoints([v.model]), extras.rollouts([v.model])]);
  const out: LineageLink[] = [];
  const share = endpoints?.flatMap((e) => e.traffic.filter((t) => t.version === v.version).map((t) => ({ endpoint: e.endpoint, ...t }))) ?? [];
  out.push(endpoints === null ? absent('serving', 'no deployments yet')
    : share.length === 0 ? absent('serving', `version ${v.version} is not deployed`)
      : { stage: 'serving', id: share[0]!.deployedModelId, time: null, present: true, summary: share.map((s) => `${s.percent}% of ${s.endpoint}${s.health ? ` (${s.health})` : ''}`).join(', '), details: { traffic: share } });
  const mine = rollouts?.filter((r) => r.version === v.version) ?? [];
  const last = mine.at(-1);
  out.push(rollouts === null ? absent('canary', 'no deployments yet')
    : !last ? absent('canary', `version ${v.version} has had no rollout`)
      : {
        stage: 'canary', id: last.id, time: last.decidedAt ?? last.canaryStartedAt ?? last.requestedAt, present: true,
        summary: `${last.phase} (${last.canaryPercent}% canary against ${last.championVersion ? `v${last.championVersion}` : 'no champion'})${last.reason ? `: ${last.reason}` : ''}`,
        details: { ...last },
      });
  return out;
}
