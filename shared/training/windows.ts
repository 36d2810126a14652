import type { ModelSpec } from '../models/config.js';

export type SplitName = 'train' | 'validation' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'validation', 'test'];

export interface Window {
  start: Date;
  end: Date;
}

/**
 * The model's split windows ending at `end`, consecutive and disjoint, in time order: train, then validation,
 * then test (the latest, held out). Each window is [start, end).
 */
export function splitWindows(split: ModelSpec['split'], end: Date): Record<SplitName, Window> {
  const ms = (s: number) => s * 1000;
  const testStart = new Date(end.getTime() - ms(split.test));
  const validationStart = new Date(testStart.getTime() - ms(split.validation));
  const trainStart = new Date(validationStart.getTime() - ms(split.train));
  return {
    train: { start: trainStart, end: validationStart },
    validation: { start: validationStart, end: testStart },
    test: { start: testStart, end },
  };
}
