import type { DemoStage, WeekHook } from './stage.js';
import { dataStage } from './stages/data.js';
import { firstModelStage } from './stages/first-model.js';
import { historyStage } from './stages/history.js';
import { weeksStage } from './stages/weeks.js';

/**
 * The demo's stages, in order: the one place the loop's story is written down. To plug in a part of the loop, add
 * its stage here (e.g. a deployment stage after `firstModelStage`, reacting to `model.evaluated` like the delivery
 * function does), or a week hook below for what happens every simulated week once a model exists (predictions
 * through /predict, delayed labels). Each stage returns a one-line summary; the runner times it.
 */
export const demoStages: DemoStage[] = [dataStage, historyStage, firstModelStage, weeksStage];

/** Run for every simulated week after the first model (see WeekHook). */
export const weekHooks: WeekHook[] = [];
