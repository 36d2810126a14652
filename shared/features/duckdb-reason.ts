/**
 * DuckDB's message in ctloop's terms: its first line, without the error class, the SQL echo, the settings dump or
 * the local temp path (named by what the user gave instead).
 */
export function duckdbReason(err: unknown, path: string, label: string): string {
  const msg = String((err as Error)?.message ?? err);
  const line = /CSV Error on Line: (\d+)/.exec(msg)?.[1];
  const cols = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(msg);
  if (line && cols) return `line ${line} (as DuckDB counts): ${cols[2]} or more fields where the header has ${cols[1]}`;
  const first = msg.split('\n').find((l) => l.trim() !== '') ?? msg;
  return first.replace(/^[A-Za-z ]*Error: /, '').split(path).join(label).replace(/[.\s]+$/, '');
}
