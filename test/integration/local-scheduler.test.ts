import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus } from '../../shared/adapters/event-bus/index.js';
import { catalog, parseEventOf } from '../../shared/events/catalog.js';
import type { Envelope } from '../../shared/events/envelope.js';
import { LocalScheduler } from '../../shared/runtime/local-scheduler.js';
import { buildTopology } from '../../shared/topology/generate.js';
import { functionRegistry } from '../../shared/topology/functions.js';
import { parseSchedulePlan } from '../../shared/topology/schedules.js';
import { testRepo } from '../helpers/feature-fixtures.js';

describe('local scheduler (the embedded Cloud Scheduler)', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ctloop-sched-')); });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('fires the jobs Terraform gets, at their minute, as valid catalog events with stable ids', async () => {
    const plan = parseSchedulePlan({ driftChecks: { defaults: { schedule: '0 6 * * *', windowSeconds: 3600 }, views: { driver_stats: { enabled: false } } }, compaction: { enabled: false } });
    const { topology } = buildTopology({ catalog, registry: functionRegistry, features: testRepo(), schedules: plan });
    const bus = createEventBus({ kind: 'memory', journalDir: join(dir, 'bus') }, { minBackoffMs: 1, maxBackoffMs: 10, maxDeliveryAttempts: 5 });
    const got: Envelope[] = [];
    await bus.subscribe({ name: 'drift', topic: catalog.driftCheckRequested.topic }, async (e) => { got.push(e); });
    const s = new LocalScheduler(topology.scheduler_jobs, bus);
    expect(s.jobNames).toEqual(['ctloop-drift-check-route-stats']);
    expect(await s.tick(new Date('2001-03-01T06:01:00Z'))).toEqual([]);
    const ids = await s.tick(new Date('2001-03-01T06:00:30Z'));
    expect(ids).toEqual(['ctloop-drift-check-route-stats@2001-03-01T06:00']);
    await bus.drain(5000);
    expect(got).toHaveLength(1);
    const ev = parseEventOf('driftCheckRequested', got[0]);
    expect(ev).toMatchObject({ id: ids[0], time: '2001-03-01T06:00:00.000Z', source: 'cloud-scheduler/ctloop-drift-check-route-stats', data: { view: 'route_stats', windowSeconds: 3600 } });
    await bus.close();
  });
});
