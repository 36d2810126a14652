/**
 * BigQuery's DML concurrency for the stand-in (test double only), modelled on DuckDB transactions.
 *
 * BigQuery (https://cloud.google.com/bigquery/docs/data-manipulation-language, "DML statement conflicts"): each DML statement is its own
 * transaction over a snapshot; per table, up to 2 mutating statements (UPDATE, DELETE, MERGE) run at once and up to
 * 20 more wait, past that they fail; INSERTs are not limited that way. Statements that only insert never conflict,
 * so two overlapping MERGEs whose NOT MATCHED branch sees the same new key BOTH insert it. Statements that update or
 * delete the same data conflict: the later one is retried (up to 3 times), then fails.
 *
 * Here every DML statement runs on its own DuckDB connection inside its own transaction (snapshot isolation, as on
 * BigQuery). DuckDB detects update/delete conflicts per row, BigQuery per partition (stricter): a conflicted
 * statement is rolled back and rerun once the others committed, up to 3 times, like BigQuery's retries.
 *
 * `overlap(n)` makes the next n DML statements on one table concurrent deterministically: each runs, then waits
 * before committing until all n have run, so every one of them read the table as it was before any committed.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../../shared/adapters/warehouse/duckdb/connect.js';

export const MUTATING_RUNNING = 2;
export const MUTATING_QUEUED = 20;
const RETRIES = 3;

export class DmlConflictError extends Error {}
export class DmlQueueFullError extends Error {}

/** The target table of a DML statement as `dataset.table`, or null when the text is not DML. */
export function dmlTarget(sql: string): string | null {
  const m = /^\s*(?:MERGE(?:\s+INTO)?|INSERT(?:\s+INTO)?|UPDATE|DELETE(?:\s+FROM)?)\s+((?:`[^`]+`|[\w-]+)(?:\s*\.\s*(?:`[^`]+`|[\w-]+))*)/i.exec(sql);
  return m ? m[1]!.replace(/[`\s]/g, '').split('.').slice(-2).join('.') : null;
}

class Semaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number, private readonly queue: number) {}
  async acquire(): Promise<void> {
    if (this.running < this.limit) { this.running++; return; }
    if (this.waiting.length >= this.queue) throw new DmlQueueFullError('queue full');
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}

class Barrier {
  private arrived = 0;
  private open!: () => void;
  readonly opened = new Promise<void>((r) => { this.open = r; });
  constructor(private readonly size: number) {}
  arrive(): Promise<void> {
    if (++this.arrived >= this.size) this.open();
    return this.opened;
  }
  release(): void { this.open(); }
}

export class DmlRunner {
  private readonly limits = new Map<string, Semaphore>();
  private readonly pending = new Map<string, { left: number; barrier: Barrier }>();
  /** Serialises commits, so conflicted statements rerun against committed data in a stable order. */
  private commits: Promise<unknown> = Promise.resolve();

  constructor(private readonly instance: DuckDBInstance) {}

  /** The next `n` DML statements on `table` overlap: none commits before all of them ran (or `release()`). */
  overlap(table: string, n: number): { release(): void } {
    const entry = { left: n, barrier: new Barrier(n) };
    this.pending.set(table, entry);
    return {
      release: () => {
        if (this.pending.get(table) === entry) this.pending.delete(table);
        entry.barrier.release();
      },
    };
  }

  /** Run one DML statement with BigQuery's concurrency rules; returns the affected row count. */
  async run(table: string, mutating: boolean, exec: (conn: DuckDBConnection) => Promise<number>): Promise<number> {
    const limit = mutating ? this.limitFor(table) : null;
    await limit?.acquire();
    let barrier: Barrier | null = null;
    const pending = this.pending.get(table);
    if (pending) {
      barrier = pending.barrier;
      if (--pending.left === 0) this.pending.delete(table);
    }
    try {
      for (let attempt = 0; ; attempt++) {
        const conn = await connectUtc(this.instance);
        try {
          await conn.run('BEGIN TRANSACTION');
          let n: number;
          try {
            n = await exec(conn);
          } catch (err) {
            await conn.run('ROLLBACK').catch(() => undefined);
            if (!isConflict(err)) throw err;
            if (barrier) { await barrier.arrive(); barrier = null; }
            if (attempt >= RETRIES) throw new DmlConflictError(`Could not serialize access to table ${table} due to concurrent update`);
            await this.commits;
            continue;
          }
          if (barrier) { await barrier.arrive(); barrier = null; }
          const commit = this.commits.then(() => conn.run('COMMIT'));
          this.commits = commit.catch(() => undefined);
          try {
            await commit;
          } catch (err) {
            await conn.run('ROLLBACK').catch(() => undefined);
            if (!isConflict(err) || attempt >= RETRIES) throw isConflict(err) ? new DmlConflictError(`Could not serialize access to table ${table} due to concurrent update`) : err;
            continue;
          }
          return n;
        } finally {
          conn.closeSync();
        }
      }
    } finally {
      if (barrier) await barrier.arrive();
      limit?.release();
    }
  }

  private limitFor(table: string): Semaphore {
    let s = this.limits.get(table);
    if (!s) this.limits.set(table, (s = new Semaphore(MUTATING_RUNNING, MUTATING_QUEUED)));
    return s;
  }
}

function isConflict(err: unknown): boolean {
  return /conflict/i.test((err as Error)?.message ?? '');
}

/**
 * BigQuery fails a MERGE (or UPDATE … FROM) when one target row matches more than one source row and a MATCHED
 * clause exists: "UPDATE/MERGE must match at most one source row for each target row". DuckDB silently applies one
 * of them. For a MERGE (already translated to DuckDB SQL) this returns a query counting such target rows, or null
 * when the MERGE has no WHEN MATCHED clause. Throws on a MERGE form it does not understand, so no check is skipped.
 */
export function mergeDuplicateMatchSql(duckSql: string): string | null {
  if (!/\bWHEN\s+MATCHED\b/i.test(duckSql)) return null;
  const head = /^\s*MERGE\s+INTO\s+((?:"[^"]*"|\w+)(?:\.(?:"[^"]*"|\w+))*)\s+(?:AS\s+)?(\w+)\s+USING\s+/i.exec(duckSql);
  if (!head) throw new Error(`the stand-in cannot read this MERGE's target: ${duckSql.slice(0, 200)}`);
  let rest = duckSql.slice(head[0].length);
  let source: string;
  if (rest.startsWith('(')) {
    const close = closingParen(rest, 0);
    if (close < 0) throw new Error('unbalanced MERGE source');
    source = rest.slice(0, close + 1);
    rest = rest.slice(close + 1);
  } else {
    const m = /^((?:"[^"]*"|\w+)(?:\.(?:"[^"]*"|\w+))*)/.exec(rest);
    if (!m) throw new Error(`the stand-in cannot read this MERGE's source: ${rest.slice(0, 200)}`);
    source = m[1]!;
    rest = rest.slice(m[0].length);
  }
  const alias = /^\s*(?:AS\s+)?(\w+)\s+ON\s+/i.exec(rest);
  if (!alias) throw new Error(`the stand-in cannot read this MERGE's source alias: ${rest.slice(0, 200)}`);
  rest = rest.slice(alias[0].length);
  const when = depthZeroIndex(rest, /\bWHEN\s+(?:NOT\s+)?MATCHED\b/i);
  if (when < 0) throw new Error('MERGE without WHEN');
  const on = rest.slice(0, when);
  const t = head[2]!;
  return `SELECT COUNT(*) AS n FROM (SELECT ${t}.rowid FROM ${head[1]} AS ${t} JOIN ${source} AS ${alias[1]} ON ${on} GROUP BY ${t}.rowid HAVING COUNT(*) > 1) AS dup`;
}

function closingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let k = open; k < text.length; k++) {
    const ch = text[k]!;
    if (quote) { if (ch === quote) quote = null; continue; }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return k;
  }
  return -1;
}

function depthZeroIndex(text: string, re: RegExp): number {
  const g = new RegExp(re.source, 'gi');
  let m: RegExpExecArray | null;
  while ((m = g.exec(text))) {
    let depth = 0;
    let quote: string | null = null;
    for (let k = 0; k < m.index; k++) {
      const ch = text[k]!;
      if (quote) { if (ch === quote) quote = null; continue; }
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '(') depth++;
      else if (ch === ')') depth--;
    }
    if (depth === 0 && !quote) return m.index;
  }
  return -1;
}
