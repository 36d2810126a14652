import type { DemoRecord } from './stage.js';

/** Plain-text table: header, then rows, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

const m = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(4));

/** The demo's closing summary: models, drift reports, deployments, time per stage, drift → registered latency. */
export function renderSummary(r: DemoRecord, totalSeconds: number): string {
  const out: string[] = [];
  out.push('Models', table(['version', 'trigger', 'requested (simulated)', 'AUC', 'log loss', 'gate', 'aliases'], r.models.map((x) => [
    x.version, x.trigger, x.requestedAt.toISOString().slice(0, 10), m(x.metrics.auc), m(x.metrics.log_loss),
    x.blessed ? 'blessed' : `refused: ${x.failedChecks.map((c) => c.check).join(', ')}`, x.aliases.join(', ') || '-',
  ])));
  out.push('', 'Drift reports (flights view)', table(['window', 'dataset drift', 'drifted', 'decision'], r.drift.map((d) => [
    `${d.window.start.slice(0, 10)} → ${d.window.end.slice(0, 10)}`, d.datasetDrift ? `yes (${(d.shareDrifted * 100).toFixed(0)}%)` : `no (${(d.shareDrifted * 100).toFixed(0)}%)`,
    d.drifted.join(', ') || '-', d.decision,
  ])));
  out.push('', 'Deployments', r.deployments.length ? table(['version', 'detail'], r.deployments.map((d) => [d.version, d.detail])) : '  none: the delivery stage is not part of this build');
  out.push('', 'Stages', table(['stage', 'seconds', 'result'], [...r.stages.map((s) => [s.name, s.seconds.toFixed(1), s.headline]), ['total', totalSeconds.toFixed(1), '']]));
  const lat = r.driftToRegisteredMs;
  out.push('', lat.length
    ? `Drift reported → new model registered: ${lat.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')} (wall clock; serving joins at merge)`
    : 'Drift reported → new model registered: no drift-triggered retrain happened in this run');
  return out.join('\n');
}
