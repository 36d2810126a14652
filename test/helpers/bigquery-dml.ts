/**
 * BigQuery's DML concurrency for the stand-in (test double only), modelled on DuckDB transactions.
 *
 * BigQuery (DML docs, "DML statement conflicts"; /work/shared/REFERENCE.md): each DML statement is its own
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
