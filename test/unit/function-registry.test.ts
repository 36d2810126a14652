import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handlers } from '../../functions/handlers.js';
import { functionRegistry } from '../../shared/topology/functions.js';

describe('function registry', () => {
  it('lists exactly the functions that have a folder and a handler', () => {
    expect(Object.keys(handlers).sort()).toEqual(functionRegistry.map((f) => f.name).sort());
    for (const f of functionRegistry) {
      expect(existsSync(new URL(`../../functions/${f.name}/index.ts`, import.meta.url)), `functions/${f.name}/index.ts`).toBe(true);
      expect(f.entryPoint).toMatch(/^[a-z][A-Za-z0-9]+$/);
    }
  });
});
