import type { Rollout } from '../../shared/delivery/rollout-store.js';

/** A rollout as the deploy / rollback commands print it. */
export function renderRollout(r: Rollout): string {
  const head = `${r.model}@${r.version}: ${r.phase.replace('_', ' ')}${r.championVersion ? ` (champion ${r.model}@${r.championVersion})` : ' (first deployment)'}`;
  const lines = [head];
  if (r.phase === 'canary') {
    lines.push(`  canary takes ${r.canaryPercent}% of the traffic since ${r.canaryStartedAt}; the deployment check (every minute: \`ctloop run\` locally, Cloud Scheduler on GCP) compares it with the champion when the canary period is over, then promotes or rolls back`);
  }
  if (r.phase === 'deploying') lines.push('  the deployment is still running; the deployment check resumes it');
  if (r.reason) lines.push(`  ${r.reason}`);
  for (const c of r.checks) lines.push(`  ${c.status.toUpperCase().padEnd(7)} ${c.check.padEnd(17)} ${c.detail}`);
  return lines.join('\n');
}
