import { describe, expect, it } from 'vitest';
import type { Endpoint, EndpointState, Prediction } from '../../../shared/ports/endpoint.js';
import { EndpointFirstPredictor } from '../../../shared/serving/endpoint-predictor.js';
import type { Predictor } from '../../../shared/serving/predictor.js';

/** Routing only: which of the two answers; the endpoint and the champion server are tested in their own suites. */
function endpointWith(states: Record<string, EndpointState | null>, calls: string[]): Endpoint {
  const answer = (model: string): Prediction => ({ predictions: [0.5], model, version: '2', deployedModelId: '2-1' });
  return {
    deploy: async () => { throw new Error('not used'); },
    setTraffic: async () => undefined,
    undeploy: async () => undefined,
    describe: async (model) => states[model] ?? null,
    predict: async (model) => { calls.push(`endpoint:${model}`); return answer(model); },
  } as Endpoint;
}
const champion = (calls: string[]): Predictor => ({
  predict: async (model) => { calls.push(`champion:${model}`); return { predictions: [0.1], model, version: '1', deployedModelId: 'champion' }; },
});
const deployed = (split: Record<string, number>): EndpointState => ({ model: 'm', endpoint: 'embedded://m', deployedModels: [], trafficSplit: split });

describe('EndpointFirstPredictor', () => {
  it('answers a deployed model through the endpoint (its split, its canary) and the others through their champion', async () => {
    const calls: string[] = [];
    const p = new EndpointFirstPredictor(endpointWith({ live: deployed({ '1-1': 90, '2-2': 10 }), idle: deployed({ '1-1': 0 }) }, calls), champion(calls));
    expect((await p.predict('live', [{}], { requestId: 'r' })).version).toBe('2');
    expect((await p.predict('idle', [{}])).version).toBe('1');
    expect((await p.predict('never-deployed', [{}])).version).toBe('1');
    expect(calls).toEqual(['endpoint:live', 'champion:idle', 'champion:never-deployed']);
  });

  it('without a fallback, the endpoint answers (and reports what it cannot serve)', async () => {
    const calls: string[] = [];
    await new EndpointFirstPredictor(endpointWith({}, calls), null).predict('x', [{}]);
    expect(calls).toEqual(['endpoint:x']);
  });
});
