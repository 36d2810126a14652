import { ValidationError } from '../../errors.js';
import { ALIAS_PATTERN, type RegisterVersionRequest } from '../../ports/model-registry.js';

/** Checks both registry adapters apply, so that the same request behaves the same on either. */
export function checkAliases(aliases: readonly string[]): void {
  for (const a of aliases) {
    if (!ALIAS_PATTERN.test(a) || a === 'default') {
      throw new ValidationError(`model version alias "${a}" is not allowed`, {
        hint: a === 'default' ? '"default" is managed by the registry (it follows champion)' : 'aliases match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9], e.g. champion, challenger',
      });
    }
  }
}

export function checkModelName(model: string): void {
  if (!/^[a-z][a-z0-9_-]{0,62}$/.test(model)) {
    throw new ValidationError(`model name "${model}" is not a registry id`, { hint: 'name models with lowercase letters, digits, _ and - (at most 63, starting with a letter), e.g. flight_delay' });
  }
}

export function checkRequest(req: RegisterVersionRequest): void {
  checkModelName(req.model);
  checkAliases(req.aliases);
  if (!req.runId) throw new ValidationError('a model version needs the run id that trained it', { hint: 'pass runId from the training.completed event' });
  for (const [k, v] of Object.entries(req.metrics)) {
    if (!Number.isFinite(v)) throw new ValidationError(`metric ${k} is ${v}, not a finite number`, { hint: 'leave undefined metrics out of the version record' });
  }
}

/** Where the registry writes a run's evaluation report. */
export function evaluationUri(bucket: string, model: string, runId: string): string {
  return `gs://${bucket}/models/${model}/runs/${encodeURIComponent(runId)}/evaluation.json`;
}
