import type { Command } from 'commander';
import { register as registerDeadLetters } from './dead-letters.js';
import { register as registerDemo } from './demo.js';
import { register as registerDrift } from './drift.js';
import { register as registerFeatures } from './features.js';
import { register as registerInfra } from './infra.js';
import { register as registerRun } from './run.js';

/**
 * Every command group registers itself here (one file per group under cli/commands/). Each file exports
 * `register(program)`, adding a subcommand with its own options and `--help`.
 */
export function registerCommands(program: Command): void {
  registerDeadLetters(program);
  registerDemo(program);
  registerDrift(program);
  registerFeatures(program);
  registerInfra(program);
  registerRun(program);
}
