import type { Lineage } from './lineage.js';
import type { LoopStatus } from './status.js';

/** Text renderings of `ctloop why` and `ctloop status` (the JSON forms are the objects themselves). */
export function renderLineage(l: Lineage): string {
  const lines = [`${l.model}@${l.version}${l.aliases.length ? ` (${l.aliases.join(', ')})` : ''}${l.correlationId ? `  correlation ${l.correlationId}` : ''}`];
  l.links.forEach((k, i) => {
    const arrow = i === 0 ? '  ' : '← ';
    lines.push(`${arrow}${k.stage.padEnd(17)} ${k.present ? '' : '— '}${k.summary}`);
    if (k.present && (k.id || k.time)) lines.push(`  ${''.padEnd(17)} ${[k.id && `id ${k.id}`, k.time && `at ${k.time}`].filter(Boolean).join(', ')}`);
  });
  return lines.join('\n');
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export function renderStatus(s: LoopStatus): string {
  const out: string[] = ['models'];
  if (s.models.length === 0) out.push('  no model versions registered yet (train one: ctloop train --model <name>)');
  for (const m of s.models) {
    const aliases = Object.entries(m.aliases).map(([a, v]) => `${a}=v${v}`).join(', ') || 'no aliases';
    const auc = m.champion && typeof m.champion.metrics.auc === 'number' ? `, champion AUC ${m.champion.metrics.auc.toFixed(4)}` : '';
    out.push(`  ${m.model.padEnd(20)} ${m.versions} version(s), latest v${m.latest.version} ${m.latest.blessed ? 'blessed' : 'refused'}; ${aliases}${auc}`);
  }
  out.push('', 'endpoints and traffic');
  if (s.endpoints === null || s.endpoints.length === 0) out.push('  no deployments yet');
  for (const e of s.endpoints ?? []) out.push(`  ${e.model.padEnd(20)} ${e.endpoint}: ${e.traffic.map((t) => `v${t.version} ${t.percent}%${t.health ? ` (${t.health})` : ''}`).join(', ')}`);
  for (const r of s.rollouts ?? []) out.push(`  rollout ${r.model}@${r.version}: ${r.phase} (${r.canaryPercent}% canary against ${r.championVersion ? `v${r.championVersion}` : 'no champion'})`);
  out.push('', 'last drift reports');
  if (s.drift.length === 0) out.push('  no drift reports yet');
  for (const d of s.drift) {
    out.push(`  ${d.view.padEnd(20)} ${d.window.start} → ${d.window.end}  ${d.datasetDrift ? 'DRIFT' : 'ok'} (${d.drifted.length}/${d.features} drifted${d.drifted.length ? `: ${d.drifted.join(', ')}` : ''}; ${pct(d.shareDrifted)}; ${d.anomalies} anomalies)  ${d.reportId}`);
  }
  out.push('', 'training runs in flight');
  if (s.runsInFlight.length === 0) out.push('  none');
  for (const r of s.runsInFlight) out.push(`  ${r.runId}  ${r.model}  ${r.state} (${r.trigger}, ${r.backend}) since ${r.createdAt}${r.deadlineAt ? `, deadline ${r.deadlineAt}` : ''}`);
  out.push('', 'dead letters');
  if (s.deadLetters.length === 0) out.push('  none');
  for (const d of s.deadLetters) out.push(`  ${d.consumer.padEnd(20)} ${d.count}, latest ${d.latest}: ${d.reason}  (ctloop dead-letters list --consumer ${d.consumer})`);
  return out.join('\n');
}
