import type { DemoStage, WeekHook } from './stage.js';
import { dataStage } from './stages/data.js';
import { firstModelStage } from './stages/first-model.js';
import { historyStage } from './stages/history.js';
import { deliveryStage } from './stages/delivery.js';
import { servingHook } from './serving.js';
import { weeksStage } from './stages/weeks.js';

/**
 * The demo's stages, in order: the one place the loop's story is written down. To plug in a part of the loop, add
 * its stage here, or a week hook below for what happens every simulated week once a model exists (predictions through
 * /predict, delayed labels). Deployment itself is not a stage: deploy-model and reconcile-deployments run on the bus
 * as in production, on the simulated clock. Each stage returns a one-line summary; the runner times it.
 */
export const demoStages: DemoStage[] = [dataStage, historyStage, firstModelStage, weeksStage, deliveryStage];

/** Run for every simulated week after the first model (see WeekHook); fresh hooks (they keep state) per run. */
export const weekHooks = (): WeekHook[] => [servingHook()];
