import { describe, expect, it } from 'vitest';
import { catalog } from '../../shared/events/catalog.js';
import { buildTopology } from '../../shared/topology/generate.js';
import { functionRegistry } from '../../shared/topology/functions.js';
import { parseSchedulePlan } from '../../shared/topology/schedules.js';
import { testRepo } from '../helpers/feature-fixtures.js';

describe('schedules: the model a view\'s drift retrains', () => {
  it('a per-view model reaches the scheduler message, so a drift-triggered request names the model, not the view', () => {
    const plan = parseSchedulePlan({ driftChecks: { views: { route_stats: { model: 'route_model' } } } });
    const { topology } = buildTopology({ catalog, registry: functionRegistry, features: testRepo(), schedules: plan });
    const job = topology.scheduler_jobs['ctloop-drift-check-route-stats']!;
    expect(JSON.parse(job.data_json)).toEqual({ view: 'route_stats', model: 'route_model', windowSeconds: 86_400 });
  });

  it('refuses a model name that models.yaml could not hold, naming the rule', () => {
    expect(() => parseSchedulePlan({ driftChecks: { views: { route_stats: { model: 'Route Model' } } } })).toThrow(/model names are lower-case/);
  });
});
