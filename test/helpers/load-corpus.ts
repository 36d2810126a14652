/**
 * The file-load corpus of test/integration/engine-load.test.ts and engine-load-bigquery.test.ts: values each rule of
 * validate.ts / time.ts is about, good and bad, for the executions of the rules (row by row, DuckDB, BigQuery) to agree on.
 */
export const TIMES = [
  '2001-03-01T00:00:00Z', '2001-02-30T00:00:00Z', '2001-02-29T10:00:00+01:00', '2000-02-29T23:59:59.999999Z', '2001-03-01T24:00:00Z',
  '2001-03-01T23:60:00Z', '2001-03-01T23:59:60Z', '2001-03-01T23:59:61Z', '2001-13-01', '2001-00-10', '0000-01-01', '0001-01-01T00:00:00+01:00',
  '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59-01:00', '2001-03-01 08:00:00+0230', '2001-03-01T08:00:00+24:00', '2001-03-01T08:00:00-23:59',
  '2001-03-01T08:00:00.1234567891Z', ' 2001-03-01T08:00 ', '2001-03-01t08:00:00utc', '2001-3-1', 'yesterday', '', '1900-02-29', '2004-02-29',
  '2001-04-31T00:00:00Z', '2001-03-01T08:00:00 Z', '1969-12-31T23:59:59.9995Z',
];
export const FLOATS = ['1.5', '1e400', '-1e400', '1e-400', 'inf', '-Infinity', '+INF', 'NaN', '-nan', '1.', '.5', '1.e5', ' 2.5 ', 'abc', '', '0x10', '1_000', '１'];
export const INTS = ['1', '-0', '+7', '007', '9007199254740991', '9007199254740992', '-9007199254740991', '-9007199254740992', '00000000000000000000000000000000000000000001', '1.0', '1e3', ' 42 ', '\u00a042\u00a0', 'x', ''];
export const KEYS = ['O1', '', 'with "quotes"', 'new\nline', 'comma,inside', 'é', `long ${'x'.repeat(80)}`, 'tab\there', '\u2028sep'];

export function csvField(v: string | null): string {
  if (v === null) return '';
  return v === '' || /[",\n\r]/.test(v) || v.trim() !== v ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A route_stats CSV crossing every list above (keys, times, floats, ints; empty keys and notes). */
export function routeCorpus(): string {
  const lines = ['origin,dest,event_ts,avg_delay,flights,note'];
  const n = Math.max(TIMES.length, FLOATS.length, INTS.length, KEYS.length) * 3;
  for (let i = 0; i < n; i++) {
    const key = i % 5 === 4 ? null : KEYS[i % KEYS.length]!;
    lines.push([key, `D${i % 3}`, TIMES[i % TIMES.length]!, FLOATS[i % FLOATS.length]!, INTS[i % INTS.length]!, i % 7 === 0 ? null : `n${i}`].map((v) => (v === null ? '' : csvField(v))).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** A driver_stats CSV (INT64 key, created-time column, BOOL feature) with a quoted multi-line value shifting lines. */
export function driverCorpus(): string {
  const lines = ['driver_id,event_ts,created,rating,active'];
  for (let i = 0; i < 60; i++) lines.push([INTS[i % INTS.length], TIMES[i % 4], i % 3 === 0 ? '' : TIMES[(i + 1) % TIMES.length], FLOATS[i % FLOATS.length], ['true', 'FALSE', ' True ', '1', 'yes', ''][i % 6]].map((v) => csvField(v!)).join(','));
  lines.splice(5, 0, '"1\n2",2001-03-01T00:00:00Z,,1,true');
  return `${lines.join('\n')}\n`;
}
