import type { Command } from 'commander';

/**
 * Every command group has one file under cli/commands/ exporting `register(program)`, which adds the group with its
 * options and `--help`. Groups are loaded lazily: a command line loads only the group it names (with the modules it
 * needs: warehouse, cloud clients…), and every other group is listed by name and description only, so `ctloop --help`
 * starts without loading any of them. The descriptions here must equal the ones the files register (a test checks).
 */
export interface CommandGroup {
  name: string;
  description: string;
  load: () => Promise<{ register(program: Command): void }>;
}

export const commandGroups: readonly CommandGroup[] = [
  { name: 'dead-letters', description: 'messages the loop gave up on: list them with their reasons, replay them once fixed', load: () => import('./dead-letters.js') },
  { name: 'demo', description: 'replay six months of real flights through the whole loop: features, training, evaluation, drift checks, retraining (what `npm start` runs)', load: () => import('./demo.js') },
  { name: 'deploy', description: 'deploy a model version as a canary beside the champion; promoted or rolled back after the canary period', load: () => import('./deploy.js') },
  { name: 'drift', description: 'drift and data validation: compare two files (file mode), register baselines, check a window now, read report history', load: () => import('./drift.js') },
  { name: 'endpoints', description: 'deployed model versions per endpoint: traffic split, health, rollout in progress', load: () => import('./endpoints.js') },
  { name: 'events', description: 'the event catalog for producers: JSON Schemas and an AsyncAPI document', load: () => import('./events.js') },
  { name: 'features', description: 'feature store: tables, ingestion, training sets, online values, quarantined rows', load: () => import('./features.js') },
  { name: 'infra', description: 'Terraform inputs derived from the code (see infra/README.md)', load: () => import('./infra.js') },
  { name: 'labels', description: 'delayed labels: join observed outcomes to the serving log', load: () => import('./labels.js') },
  { name: 'models', description: 'model registry: versions with their metrics, verdict, aliases and lineage', load: () => import('./models.js') },
  { name: 'monitor', description: 'live AUC and log loss per model version and day, from the serving log and delayed labels', load: () => import('./monitor.js') },
  { name: 'predict', description: 'predict for the instances in a file: in this process (model server + online features), or through --url', load: () => import('./predict.js') },
  { name: 'report', description: 'write the loop\'s report: one self-contained HTML page with plots (drift per feature, metrics per version and slice, canary, live performance, lineage)', load: () => import('./report.js') },
  { name: 'rollback', description: "end a model's rollout now: the canary is undeployed and the champion takes all traffic again", load: () => import('./rollback.js') },
  { name: 'run', description: 'run the functions and the scheduler jobs in this process until interrupted (embedded or emulators mode)', load: () => import('./run.js') },
  { name: 'runs', description: 'training runs: list them, show one, compare parameters and metrics side by side', load: () => import('./runs.js') },
  { name: 'serve', description: 'serve POST /predict on 127.0.0.1: online features, model servers, serving log (until interrupted)', load: () => import('./serve.js') },
  { name: 'status', description: 'the loop at a glance: models and aliases, endpoints and traffic, last drift reports, runs in flight, dead letters', load: () => import('./status.js') },
  { name: 'train', description: 'request training of a model (a manual training request through the loop\'s events); --wait for its result', load: () => import('./train.js') },
  { name: 'ui', description: 'serve the report on 127.0.0.1 (rebuilt on every reload) until interrupted', load: () => import('./ui.js') },
  { name: 'up', description: 'start the emulators and serve every function under functions-framework with push subscriptions, until interrupted (npm run emulators)', load: () => import('./up.js') },
  { name: 'why', description: 'why a model version exists: serving ← canary ← evaluation ← training run ← request ← drift report ← window and baseline ← data', load: () => import('./why.js') },
];

/**
 * Register the group the command line names (`ctloop features …`, `ctloop help features`) in full and the others as
 * name and description. With no group named, or an unknown one, nothing is loaded and commander reports it.
 */
export async function registerCommands(program: Command, argv: string[]): Promise<void> {
  const named = groupNamed(argv);
  for (const g of commandGroups) {
    if (g.name === named) (await g.load()).register(program);
    else program.command(g.name).description(g.description);
  }
}

/** The first operand of the command line (skipping the global options), or the one after `help`. */
function groupNamed(argv: string[]): string | undefined {
  const operands: string[] = [];
  for (let i = 2; i < argv.length && operands.length < 2; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--format') i++; // its value
    else if (!a.startsWith('-')) operands.push(a);
  }
  return operands[0] === 'help' ? operands[1] : operands[0];
}
