import { BreakingChangeError } from '../errors.js';
import type { ColumnSchema, TableSpec, Warehouse } from '../ports/warehouse.js';
import type { FeatureRepo } from './definitions.js';
import { featureStoreTables } from './tables.js';

export type TableChange =
  | { table: string; action: 'create'; columns: ColumnSchema[] }
  | { table: string; action: 'add_columns'; columns: ColumnSchema[] }
  | { table: string; action: 'unchanged' };

export interface ApplyResult {
  changes: TableChange[];
  applied: boolean;
}

/** Compare a wanted table with the existing one. Additive changes are planned; anything else is refused. */
export function diffTable(want: TableSpec, have: TableSpec | null): TableChange {
  if (!have) return { table: want.name, action: 'create', columns: want.columns };
  const problems: string[] = [];
  const haveCols = new Map(have.columns.map((c) => [c.name.toLowerCase(), c]));
  const wantNames = new Set(want.columns.map((c) => c.name.toLowerCase()));
  for (const c of have.columns) {
    if (!wantNames.has(c.name.toLowerCase())) problems.push(`column ${c.name} (${c.type}) would be dropped`);
  }
  const added: ColumnSchema[] = [];
  for (const c of want.columns) {
    const h = haveCols.get(c.name.toLowerCase());
    if (!h) added.push({ ...c, mode: 'NULLABLE' });
    else if (h.type !== c.type) problems.push(`column ${c.name} would change type ${h.type} → ${c.type}`);
  }
  if (problems.length > 0) {
    throw new BreakingChangeError(`table ${want.name}: breaking change refused: ${problems.join('; ')}`, {
      hint: 'keep existing columns and types (add new features instead), or create a new feature view with its own table and backfill it',
      details: { table: want.name, problems },
    });
  }
  return added.length > 0 ? { table: want.name, action: 'add_columns', columns: added } : { table: want.name, action: 'unchanged' };
}

/**
 * Create or migrate every feature-store table. All tables are checked before anything is changed, so a breaking
 * change in one view leaves the warehouse untouched.
 */
export async function applyFeatureRepo(warehouse: Warehouse, repo: FeatureRepo, opts: { dryRun?: boolean } = {}): Promise<ApplyResult> {
  const specs = featureStoreTables(repo.views);
  const existing = await Promise.all(specs.map((s) => warehouse.getTable(s.name)));
  const changes = specs.map((s, i) => diffTable(s, existing[i] ?? null));
  if (opts.dryRun) return { changes, applied: false };
  for (const [i, ch] of changes.entries()) {
    if (ch.action === 'create') await warehouse.createTable(specs[i]!);
    else if (ch.action === 'add_columns') await warehouse.addColumns(ch.table, ch.columns);
  }
  return { changes, applied: true };
}
