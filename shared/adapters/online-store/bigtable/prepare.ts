import { BackendError } from '../../../errors.js';
import type { FeatureView } from '../../../features/definitions.js';
import { clientGcRule, columnFamily } from './layout.js';

/** The table calls preparing a view needs (a subset of @google-cloud/bigtable's Table). */
export interface FamilyAdmin {
  exists(): Promise<[boolean, ...unknown[]]>;
  create(): Promise<unknown>;
  getFamilies(): Promise<[{ id: string }[], ...unknown[]]>;
  createFamily(id: string, opts: { rule: ReturnType<typeof clientGcRule> }): Promise<unknown>;
}

const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;

/**
 * Make sure the table and the view's column family exist. Reading them (tables.get) is data-plane metadata every
 * writer and reader may do (roles/bigtable.user, roles/bigtable.reader); creating them is admin work that only
 * happens when one is missing — on the emulator and in tests. On Google Cloud Terraform creates the table and one
 * family per view (`ctloop infra gen`, then `terraform apply`), and the functions have no admin role: a missing
 * table or family there is a BackendError saying so, not a retry loop.
 */
export async function prepareFamily(table: FamilyAdmin, view: FeatureView, where: { instance: string; table: string }): Promise<void> {
  const family = columnFamily(view);
  const [exists] = await table.exists();
  if (!exists) await adminCall(() => table.create(), `table ${where.table} does not exist in Bigtable instance ${where.instance}`);
  const [families] = await table.getFamilies();
  if (families.some((f) => f.id === family)) return;
  await adminCall(() => table.createFamily(family, { rule: clientGcRule(view) }), `table ${where.table} (instance ${where.instance}) has no column family ${family} for view ${view.name}`);
}

async function adminCall(fn: () => Promise<unknown>, missing: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === ALREADY_EXISTS) return; // a concurrent process created it first
    if (code === PERMISSION_DENIED) {
      throw new BackendError(`Bigtable online store: ${missing}, and this identity may not create it`, {
        hint: 'Terraform creates the online table and a column family per view: run `node bin/ctloop.mjs infra gen` (after adding or renaming a view) and `terraform apply` in infra/envs/<env> with online_store = "bigtable"; check CTLOOP_BIGTABLE_INSTANCE / CTLOOP_BIGTABLE_TABLE match its outputs',
        cause: err,
      });
    }
    throw err;
  }
}
