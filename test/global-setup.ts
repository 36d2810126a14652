import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every test run gets its own temporary root (TMPDIR, inherited by the test workers and the processes they start),
 * removed at the end: a test that forgets to clean up, or dies before its afterAll, leaves nothing behind in the
 * machine's temp directory. What it would have left is reported, so the leak still gets fixed at its source.
 */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'ctloop-test-run-'));
  process.env.TMPDIR = root;
  return () => {
    const left = readdirSync(root);
    if (left.length > 0) console.warn(`test temp root: ${left.length} entries not cleaned up by their tests (removed now): ${left.slice(0, 10).join(', ')}`);
    rmSync(root, { recursive: true, force: true });
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  };
}
