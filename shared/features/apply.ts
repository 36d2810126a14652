import { BreakingChangeError } from '../errors.js';
import type { ColumnSchema, TableSpec, Warehouse } from '../ports/warehouse.js';
import type { FeatureRepo, FeatureView } from './definitions.js';
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
    if (!h && c.mode === 'REQUIRED') problems.push(`column ${c.name} is REQUIRED and cannot be added to a table whose rows have no value for it`);
    else if (!h) added.push({ ...c, mode: 'NULLABLE' });
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
 * The join keys a stored feature table was created with: its REQUIRED STRING/INT64 columns other than system columns
 * (features are always NULLABLE, the event time is a TIMESTAMP, system columns start with _).
 */
function storedKeys(t: TableSpec): ColumnSchema[] {
  return t.columns.filter((c) => c.mode === 'REQUIRED' && (c.type === 'STRING' || c.type === 'INT64') && !c.name.startsWith('_'));
}

const keyList = (keys: { name: string; type: string }[]) => `(${keys.map((k) => `${k.name} ${k.type}`).join(', ')})`;

/**
 * A join-key change (a key added, removed, renamed or retyped) is breaking: stored rows have no value for a new key
 * (lookups by the full key never find them and their files no longer validate), and a removed key merges entities
 * that were distinct. Returns the problem, or null when the keys are unchanged.
 */
export function joinKeyChange(view: FeatureView, have: TableSpec): string | null {
  const was = storedKeys(have);
  const now = view.entity.joinKeys;
  const wasBy = new Map(was.map((k) => [k.name.toLowerCase(), k]));
  const nowBy = new Map(now.map((k) => [k.name.toLowerCase(), k]));
  const changes = [
    ...now.filter((k) => !wasBy.has(k.name.toLowerCase())).map((k) => `${k.name} added`),
    ...was.filter((k) => !nowBy.has(k.name.toLowerCase())).map((k) => `${k.name} removed`),
    ...now.filter((k) => wasBy.has(k.name.toLowerCase()) && wasBy.get(k.name.toLowerCase())!.type !== k.type).map((k) => `${k.name} retyped ${wasBy.get(k.name.toLowerCase())!.type} → ${k.type}`),
  ];
  if (changes.length === 0) return null;
  return `feature view ${view.name} (table ${have.name}): join keys of entity ${view.entity.name} would change from ${keyList(was)} to ${keyList(now)} (${changes.join(', ')})`;
}

function refuseJoinKeyChanges(repo: FeatureRepo, tables: Map<string, TableSpec>): void {
  const problems: string[] = [];
  for (const v of repo.views) {
    const have = tables.get(v.table);
    const p = have ? joinKeyChange(v, have) : null;
    if (p) problems.push(p);
  }
  if (problems.length === 0) return;
  throw new BreakingChangeError(`breaking change refused: ${problems.join('; ')}`, {
    hint: 'join keys identify the stored rows and cannot change in place: keep the entity\'s keys, or define a new entity and a new feature view with its own name (e.g. <view>_v2, table fv_<view>_v2), load its history, and retire the old view when nothing reads it',
    details: { problems },
  });
}

/**
 * Create or migrate every feature-store table. All tables are checked before anything is changed, so a breaking
 * change in one view leaves the warehouse untouched.
 */
export async function applyFeatureRepo(warehouse: Warehouse, repo: FeatureRepo, opts: { dryRun?: boolean } = {}): Promise<ApplyResult> {
  const specs = featureStoreTables(repo.views);
  const existing = await Promise.all(specs.map((s) => warehouse.getTable(s.name)));
  refuseJoinKeyChanges(repo, new Map(specs.flatMap((s, i) => (existing[i] ? [[s.name, existing[i]]] : []))));
  const changes = specs.map((s, i) => diffTable(s, existing[i] ?? null));
  if (opts.dryRun) return { changes, applied: false };
  for (const [i, ch] of changes.entries()) {
    if (ch.action === 'create') await warehouse.createTable(specs[i]!);
    else if (ch.action === 'add_columns') await warehouse.addColumns(ch.table, ch.columns);
  }
  return { changes, applied: true };
}
