/**
 * Structured logs: one JSON line per entry on stderr, in the shape Cloud Logging parses (`severity`, `message`),
 * so the same lines are readable locally and queryable on GCP. The CLI raises the threshold to keep its own
 * output readable; functions log everything from info up.
 */
export type Severity = 'debug' | 'info' | 'warning' | 'error' | 'silent';

const rank: Record<Severity, number> = { debug: 0, info: 1, warning: 2, error: 3, silent: 4 };
let threshold: Severity = 'info';

export function setLogThreshold(s: Severity): void {
  threshold = s;
}

export function log(severity: Exclude<Severity, 'silent'>, message: string, fields: Record<string, unknown> = {}): void {
  if (rank[severity] < rank[threshold]) return;
  process.stderr.write(`${JSON.stringify({ severity: severity.toUpperCase(), message, time: new Date().toISOString(), ...fields })}\n`);
}
