import type { DemoRecord } from './stage.js';

/** Plain-text table: header, then rows, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

const m = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(4));

/** The demo's closing summary: models, drift reports, deployments, serving and live metrics, time per stage, latencies, the report. */
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
  out.push('', 'Deployments (deploy-model, reconcile-deployments; simulated time)', r.deployments.length ? table(['version', 'beside', 'requested', 'decided', 'outcome', 'reasons'], r.deployments.map((d) => [
    d.version, d.championVersion ? `v${d.championVersion} (canary ${d.canaryPercent}%)` : '-', d.requestedAt.slice(0, 16).replace('T', ' '), d.decidedAt?.slice(0, 16).replace('T', ' ') ?? '-', d.phase,
    d.reason ?? '-',
  ])) : '  none: no version was deployed');
  const sv = r.serving;
  out.push('', `Serving (/predict): ${sv.predictions} predictions (${Object.entries(sv.byVersion).map(([v, n]) => `v${v}: ${n}`).join(', ') || 'none'})${sv.failed ? `, ${sv.failed} failed` : ''}; ${sv.labelled} delayed labels joined`);
  out.push('Live performance from delayed labels (ctloop monitor)', r.live.length ? table(['version', 'predictions', 'labelled', 'live AUC', 'live log loss'], r.live.map((l) => [
    l.version, String(l.predictions), String(l.labelled), m(l.auc ?? undefined), m(l.logLoss ?? undefined),
  ])) : '  none: nothing was served');
  out.push('', 'Stages', table(['stage', 'seconds', 'result'], [...r.stages.map((s) => [s.name, s.seconds.toFixed(1), s.headline]), ['total', totalSeconds.toFixed(1), '']]));
  const lat = r.driftToRegisteredMs;
  const sec = (xs: number[]) => xs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ');
  out.push('', lat.length ? `Drift reported → new model registered: ${sec(lat)} (wall clock)` : 'Drift reported → new model registered: no drift-triggered retrain happened in this run');
  if (lat.length) {
    out.push(r.driftToServingMs.length ? `Drift reported → new model serving (canary): ${sec(r.driftToServingMs)} (wall clock; goal ≤ 60 s)` : 'Drift reported → new model serving: the retrained version was not deployed (refused by the gate)');
  }
  if (r.report) out.push(`Report: ${r.report}`);
  return out.join('\n');
}
