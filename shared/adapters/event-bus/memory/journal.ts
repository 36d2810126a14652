import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TransientError } from '../../../errors.js';
import type { DeadLetter } from '../../../ports/event-bus.js';
import { ensureDir } from '../../../ensure-dir.js';

export interface JournalEntry extends DeadLetter {
  topic: string;
  messageId: string;
  attributes: Record<string, string>;
  /** When the message was published (replay rebuilds data-only events from it). */
  publishTime?: string;
}

/** The journal's file name inside `journalDir`. */
export const JOURNAL_FILE = 'dead-letters.jsonl';

/**
 * Append-only JSONL file of dead letters (`<journalDir>/dead-letters.jsonl`, one entry a line), written before the
 * message is published to the in-process dead-letter topic: the in-memory bus loses its queues when the process
 * exits, the journal keeps what failed and why.
 */
export class DeadLetterJournal {
  readonly path: string;
  private ready: Promise<void> | undefined;

  constructor(readonly dir: string) {
    this.path = join(dir, JOURNAL_FILE);
  }

  async append(entry: JournalEntry): Promise<void> {
    this.ready ??= ensureDir(this.dir).then(() => undefined);
    try {
      await this.ready;
      await appendFile(this.path, `${JSON.stringify(entry)}\n`, 'utf8');
    } catch (err) {
      this.ready = undefined;
      throw new TransientError(`cannot append to the dead-letter journal ${this.path}: ${(err as Error).message}`, {
        hint: 'check that CTLOOP_STATE_DIR is writable and the disk is not full',
        cause: err,
      });
    }
  }
}
