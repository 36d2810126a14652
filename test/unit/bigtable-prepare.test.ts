import { describe, expect, it } from 'vitest';
import { prepareFamily, type FamilyAdmin } from '../../shared/adapters/online-store/bigtable/prepare.js';
import { BackendError } from '../../shared/errors.js';
import { parseFeatureRepo } from '../../shared/features/definitions.js';

const repo = parseFeatureRepo({
  entities: [{ name: 'route', joinKeys: [{ name: 'route_id', type: 'STRING' }] }],
  featureViews: [{ name: 'route_stats', entity: 'route', ttl: '1d', features: [{ name: 'x', type: 'FLOAT64' }] }],
});
const view = repo.view('route_stats');
const where = { instance: 'ctloop', table: 'ctloop_online' };

/** A table double recording admin calls; `deny` makes creation fail like an identity without admin rights. */
function fakeTable(state: { exists: boolean; families: string[] }, deny?: number): FamilyAdmin & { created: string[] } {
  const created: string[] = [];
  const denied = () => Object.assign(new Error('denied'), { code: deny });
  return {
    created,
    exists: async () => [state.exists],
    create: async () => { if (deny) throw denied(); created.push('table'); state.exists = true; },
    getFamilies: async () => [state.families.map((id) => ({ id }))],
    createFamily: async (id, opts) => { if (deny) throw denied(); created.push(`${id}:${JSON.stringify(opts.rule)}`); state.families.push(id); },
  };
}

describe('Bigtable: preparing a view needs no admin call when Terraform created the table and family', () => {
  it('makes no admin call when the table and family exist (the functions have roles/bigtable.user only)', async () => {
    const t = fakeTable({ exists: true, families: ['route_stats'] }, 7);
    await prepareFamily(t, view, where);
    expect(t.created).toEqual([]);
  });

  it('creates a missing table and family with the GC rule Terraform would set (emulator, tests)', async () => {
    const t = fakeTable({ exists: false, families: [] });
    await prepareFamily(t, view, where);
    expect(t.created).toEqual(['table', 'route_stats:{"versions":1,"age":{"seconds":86400},"union":true}']);
  });

  it('a family missing on GCP fails with a permanent error that names Terraform, not a retry', async () => {
    const t = fakeTable({ exists: true, families: ['other'] }, 7);
    const err = await prepareFamily(t, view, where).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).message).toContain('no column family route_stats');
    expect((err as BackendError).hint).toMatch(/infra gen.*terraform apply/);
  });

  it('a table missing on GCP says so too', async () => {
    const err = await prepareFamily(fakeTable({ exists: false, families: [] }, 7), view, where).catch((e: unknown) => e);
    expect((err as Error).message).toContain('table ctloop_online does not exist in Bigtable instance ctloop');
  });

  it('a family created concurrently by another process is fine (ALREADY_EXISTS)', async () => {
    await expect(prepareFamily(fakeTable({ exists: true, families: [] }, 6), view, where)).resolves.toBeUndefined();
  });
});
