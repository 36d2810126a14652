import { parsePredictions } from '../evaluation/predictions.js';
import { catalog, createEvent, type EventName, type EventOf } from '../events/catalog.js';
import type { Envelope } from '../events/envelope.js';
import { CtloopError, ValidationError } from '../errors.js';
import { OperationPendingError, type Endpoint, type EndpointState } from '../ports/endpoint.js';
import type { EventBus } from '../ports/event-bus.js';
import type { ModelRegistry } from '../ports/model-registry.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Warehouse } from '../ports/warehouse.js';
import { log } from '../runtime/log.js';
import { compareCanary } from './compare.js';
import type { CanaryPolicy } from './config.js';
import { isFinished, RolloutStore, type Rollout } from './rollout-store.js';
import { readSignals } from './signals.js';

/**
 * Canary delivery as a resumable state machine. `startRollout` (on a blessed model.evaluated, or `ctloop deploy`)
 * publishes deploy.requested and takes the first steps; `advanceRollout` (on every deployment.check_requested tick:
 * Cloud Scheduler each minute, the local scheduler in embedded mode) takes the next ones. No step waits: a
 * long-running endpoint operation leaves the rollout where it is and the next tick resumes it by name; the canary
 * period ends at the first tick after it has lasted long enough (time and predictions, from an injected clock).
 *
 *   deploying ─ deployed & healthy ─► canary ─ period over, checks pass ─► promoting ─► promoted
 *       │ health / deploy failure         │ unhealthy, or a check fails
 *       └────────────────────────────────►└──────────────────────────────► rolling_back ─► rolled_back
 *
 * Events (each caused by the previous one, one correlation id per rollout): deploy.requested → model.deployed
 * (canary split) → model.deployed (100%) | deployment.rolled_back. Event ids are derived from the rollout id and
 * the step, so a step retried after a crash republishes the same event, which consumers deduplicate.
 */
export interface DeliveryDeps {
  endpoint: Endpoint;
  registry: ModelRegistry;
  warehouse: Warehouse;
  objectStore: ObjectStore;
  bucket: string;
  bus: EventBus;
  policy: CanaryPolicy;
  now: () => Date;
  source: string;
}

export interface StartRequest {
  model: string;
  version: string;
  canaryPercent?: number;
  /** The event this rollout answers (model.evaluated), or none for a manual deploy. */
  cause?: Pick<Envelope, 'id' | 'correlationId'>;
}

async function publish<N extends EventName>(deps: DeliveryDeps, r: Rollout, name: N, step: string, data: Parameters<typeof createEvent<N>>[1]): Promise<EventOf<N>> {
  const ev = createEvent(name, data, { source: deps.source, id: `${r.id}:${step}`, time: deps.now(), causedBy: { id: r.lastEventId, correlationId: r.correlationId } });
  await deps.bus.publish(catalog[name].topic, ev);
  r.lastEventId = ev.id;
  return ev;
}

/** The deployed model carrying most traffic (the champion), if any. */
function championOf(s: EndpointState | null): { deployedModelId: string; version: string } | null {
  if (!s) return null;
  const best = [...s.deployedModels].sort((a, b) => (s.trafficSplit[b.deployedModelId] ?? 0) - (s.trafficSplit[a.deployedModelId] ?? 0))[0];
  return best && (s.trafficSplit[best.deployedModelId] ?? 0) > 0 ? best : null;
}

export async function startRollout(deps: DeliveryDeps, req: StartRequest): Promise<Rollout> {
  const store = new RolloutStore(deps.objectStore, deps.bucket);
  const percent = req.canaryPercent ?? deps.policy.percent;
  if (req.cause) {
    const done = await store.finishedById(req.model, `${req.cause.id}:deploy`);
    if (done) return done; // the same evaluation delivered again after its rollout finished
  }
  const active = await store.get(req.model);
  if (active) {
    if (active.version === req.version) return advanceRollout(deps, active); // a redelivered request
    throw new ValidationError(`${req.model}: version ${active.version} is being rolled out (${active.phase}); version ${req.version} must wait`, {
      hint: `wait for it to be promoted or rolled back, or end it now with \`ctloop rollback ${req.model}\``,
    });
  }
  if (!(await deps.registry.getVersion(req.model, req.version))) {
    throw new ValidationError(`model ${req.model} has no version ${req.version}`, { hint: 'list versions with `ctloop models list`' });
  }
  const state = await deps.endpoint.describe(req.model);
  const champ = championOf(state);
  if (champ?.version === req.version) throw new ValidationError(`${req.model} version ${req.version} already serves ${state!.trafficSplit[champ.deployedModelId]}% of the traffic`, { hint: 'nothing to deploy' });
  const ev = createEvent('deployRequested', { model: req.model, version: req.version, canaryPercent: percent }, {
    source: deps.source, time: deps.now(), ...(req.cause ? { causedBy: req.cause, id: `${req.cause.id}:deploy` } : {}),
  });
  await deps.bus.publish(catalog.deployRequested.topic, ev);
  const r: Rollout = {
    id: ev.id, model: req.model, version: req.version, canaryPercent: percent,
    championVersion: champ?.version ?? null, championDeployedModelId: champ?.deployedModelId ?? null, candidateDeployedModelId: null,
    endpoint: state?.endpoint ?? null, phase: 'deploying', requestedAt: deps.now().toISOString(), canaryStartedAt: null, decidedAt: null,
    correlationId: ev.correlationId, lastEventId: ev.id, reason: null, checks: [],
  };
  await store.save(r);
  log('info', 'rollout started', { model: r.model, version: r.version, champion: r.championVersion, canaryPercent: percent, eventId: ev.id });
  return advanceRollout(deps, r);
}

/** Take every step that can be taken now; returns the rollout as saved. */
export async function advanceRollout(deps: DeliveryDeps, r: Rollout): Promise<Rollout> {
  const store = new RolloutStore(deps.objectStore, deps.bucket);
  for (let guard = 0; guard < 10 && !isFinished(r); guard++) {
    const before = r.phase;
    try {
      await step(deps, r);
    } catch (err) {
      if (err instanceof OperationPendingError) {
        log('info', 'rollout waits for an endpoint operation', { model: r.model, version: r.version, phase: r.phase, operation: err.operation });
        break;
      }
      // A step that can never succeed must not leave a canary in place: roll back, saying why. Transient errors
      // are retried by the next delivery or tick; failures while promoting or rolling back are raised.
      if (err instanceof CtloopError && err.kind === 'permanent' && (r.phase === 'deploying' || r.phase === 'canary')) {
        rollBackFor(r, deps, `the ${r.phase} step failed: ${err.message}`);
        continue;
      }
      throw err;
    } finally {
      await store.save(r);
    }
    if (r.phase === before) break; // waiting (canary period, operation)
  }
  return r;
}

async function step(deps: DeliveryDeps, r: Rollout): Promise<void> {
  switch (r.phase) {
    case 'deploying':
      return deployCanary(deps, r);
    case 'canary':
      return judgeCanary(deps, r);
    case 'promoting':
      return promote(deps, r);
    case 'rolling_back':
      return rollBack(deps, r);
    default:
  }
}

function rollBackFor(r: Rollout, deps: DeliveryDeps, reason: string): void {
  r.phase = 'rolling_back';
  r.reason = reason;
  r.decidedAt ??= deps.now().toISOString();
  log('warning', 'rolling back', { model: r.model, version: r.version, reason });
}

async function deployCanary(deps: DeliveryDeps, r: Rollout): Promise<void> {
  const percent = r.championDeployedModelId ? r.canaryPercent : 100;
  let deployedModelId: string;
  try {
    deployedModelId = (await deps.endpoint.deploy(r.model, r.version, { trafficPercent: percent })).deployedModelId;
  } catch (err) {
    if (err instanceof OperationPendingError) r.deployStarted = true;
    if (err instanceof OperationPendingError || !(err instanceof CtloopError) || err.kind !== 'permanent') throw err;
    r.deployStarted = false; // the deployment failed: nothing of it is on the endpoint
    return rollBackFor(r, deps, `the canary was not deployed: ${err.message}`);
  }
  r.candidateDeployedModelId = deployedModelId;
  const state = await deps.endpoint.describe(r.model);
  r.endpoint = state?.endpoint ?? r.endpoint;
  const mine = state?.deployedModels.find((d) => d.deployedModelId === deployedModelId);
  if (!mine || mine.health === 'unhealthy') return rollBackFor(r, deps, `the canary is unhealthy: ${mine?.detail ?? 'not on the endpoint'}`);
  await publish(deps, r, 'modelDeployed', 'canary', { model: r.model, version: r.version, endpoint: r.endpoint ?? `embedded://${r.model}`, deployedModelId, trafficSplit: state!.trafficSplit });
  if (!r.championDeployedModelId || r.canaryPercent >= 100) {
    r.phase = 'promoting'; // nothing to compare with: the first version serves alone, or all traffic was asked for
    r.reason = r.championDeployedModelId ? 'deployed with all the traffic (no canary)' : 'first deployment: no champion to compare with';
    r.decidedAt = deps.now().toISOString();
    return;
  }
  r.phase = 'canary';
  r.canaryStartedAt = deps.now().toISOString();
}

async function testPredictions(deps: DeliveryDeps, r: Rollout): Promise<number[]> {
  const v = await deps.registry.getVersion(r.model, r.version);
  if (!v) return [];
  const uri = `${v.artifactUri.replace(/\/?$/, '/')}predictions.csv`;
  if (!uri.startsWith('gs://') || !(await deps.objectStore.exists(uri))) return [];
  try {
    return parsePredictions((await deps.objectStore.get(uri)).toString('utf8'), [], uri).scores;
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    log('warning', 'test predictions unreadable: the prediction distribution check is skipped', { model: r.model, version: r.version, uri, error: err.message });
    return [];
  }
}

async function judgeCanary(deps: DeliveryDeps, r: Rollout): Promise<void> {
  const state = await deps.endpoint.describe(r.model);
  const canary = state?.deployedModels.find((d) => d.deployedModelId === r.candidateDeployedModelId);
  if (!canary || canary.health === 'unhealthy') return rollBackFor(r, deps, `the canary is unhealthy: ${canary?.detail ?? 'gone from the endpoint'}`);
  const now = deps.now();
  const started = new Date(r.canaryStartedAt!);
  const age = (now.getTime() - started.getTime()) / 1000;
  const ids = [r.candidateDeployedModelId!, ...(r.championDeployedModelId ? [r.championDeployedModelId] : [])];
  const signals = await readSignals(deps.warehouse, r.model, ids, started, now);
  const live = signals.get(r.candidateDeployedModelId!)!;
  const enough = age >= deps.policy.minSeconds && (live.count >= deps.policy.minPredictions || age >= deps.policy.maxSeconds);
  if (!enough) return; // the canary period goes on; the next tick looks again
  const verdict = compareCanary(live, r.championDeployedModelId ? signals.get(r.championDeployedModelId) ?? null : null, await testPredictions(deps, r), deps.policy);
  r.checks = verdict.checks;
  r.decidedAt = now.toISOString();
  if (verdict.promote) {
    r.phase = 'promoting';
    r.reason = `canary period over (${Math.round(age)} s, ${live.count} predictions): ${verdict.checks.map((c) => `${c.check} ${c.status}`).join(', ')}`;
    return;
  }
  rollBackFor(r, deps, `canary worse than allowed: ${verdict.checks.filter((c) => c.status === 'failed').map((c) => `${c.check}: ${c.detail}`).join('; ')}`);
}

async function promote(deps: DeliveryDeps, r: Rollout): Promise<void> {
  const id = r.candidateDeployedModelId!;
  const state = await deps.endpoint.describe(r.model);
  if ((state?.trafficSplit[id] ?? 0) !== 100) await deps.endpoint.setTraffic(r.model, { [id]: 100 });
  for (const d of state?.deployedModels ?? []) if (d.deployedModelId !== id) await deps.endpoint.undeploy(r.model, d.deployedModelId);
  await deps.registry.setAliases(r.model, r.version, ['champion']);
  await publish(deps, r, 'modelDeployed', 'promoted', { model: r.model, version: r.version, endpoint: r.endpoint ?? `embedded://${r.model}`, deployedModelId: id, trafficSplit: { [id]: 100 } });
  r.phase = 'promoted';
  log('info', 'canary promoted', { model: r.model, version: r.version, replaced: r.championVersion, reason: r.reason });
}

async function rollBack(deps: DeliveryDeps, r: Rollout): Promise<void> {
  if (!r.candidateDeployedModelId && r.deployStarted) {
    // Rolled back while its deployment was running: resume that operation (by name) to learn what to undo.
    try {
      r.candidateDeployedModelId = (await deps.endpoint.deploy(r.model, r.version, { trafficPercent: r.canaryPercent })).deployedModelId;
    } catch (err) {
      if (!(err instanceof CtloopError) || err.kind !== 'permanent') throw err; // pending: the next tick looks again
    }
    r.deployStarted = false;
  }
  const state = await deps.endpoint.describe(r.model);
  const id = r.candidateDeployedModelId;
  if (id && state?.deployedModels.some((d) => d.deployedModelId === id)) {
    if (r.championDeployedModelId && (state.trafficSplit[r.championDeployedModelId] ?? 0) !== 100) {
      await deps.endpoint.setTraffic(r.model, { [r.championDeployedModelId]: 100 });
    }
    await deps.endpoint.undeploy(r.model, id);
  }
  await publish(deps, r, 'deploymentRolledBack', 'rolled-back', {
    model: r.model, fromVersion: r.version, toVersion: r.championVersion, endpoint: r.endpoint ?? `embedded://${r.model}`, reason: r.reason ?? 'rolled back',
  });
  r.phase = 'rolled_back';
}

/** Advance every active rollout (or one model's): what a deployment.check_requested tick does. */
export async function reconcileRollouts(deps: DeliveryDeps, model?: string): Promise<Rollout[]> {
  const store = new RolloutStore(deps.objectStore, deps.bucket);
  const models = model ? [model] : await store.activeModels();
  const out: Rollout[] = [];
  for (const m of models) {
    const r = await store.get(m);
    if (r) out.push(await advanceRollout(deps, r));
  }
  return out;
}

/** End a model's active rollout now by rolling it back (`ctloop rollback M`). */
export async function rollbackNow(deps: DeliveryDeps, model: string, reason = 'rolled back by hand'): Promise<Rollout> {
  const store = new RolloutStore(deps.objectStore, deps.bucket);
  const r = await store.get(model);
  if (!r) {
    throw new ValidationError(`${model} has no rollout in progress`, { hint: 'to serve an older version again, deploy it: `ctloop deploy M@<version> --canary 100`' });
  }
  if (r.phase !== 'rolling_back') {
    if (r.phase === 'promoting') throw new ValidationError(`${model} version ${r.version} is already being promoted`, { hint: `once promoted, deploy the previous version again: \`ctloop deploy ${model}@${r.championVersion ?? '<version>'} --canary 100\`` });
    rollBackFor(r, deps, reason);
  }
  return advanceRollout(deps, r);
}
