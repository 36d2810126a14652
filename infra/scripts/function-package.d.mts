// Types of function-package.mjs (imported by test/infra/stage-functions.test.ts).
export const EMBEDDED_ONLY: RegExp;
export function packageName(spec: string): string;
export function readModule(file: string): { file: string; code: string } | null;
export function traceImports(entry: string): { files: string[]; packages: string[]; skipped: string[] };
export function resolveInLock(packages: Record<string, unknown>, from: string, dep: string): string | null;
export function functionLock(
  rootLock: { packages: Record<string, unknown> },
  opts: { name: string; version: string; packageNames: string[] },
): { dependencies: Record<string, string>; lock: { name: string; version: string; lockfileVersion: 3; requires: true; packages: Record<string, Record<string, unknown>> } };
export function directorySize(dir: string): number;
export function installedSize(lock: { packages: Record<string, unknown> }, nodeModulesRoot: string): number;
export function relativeTo(root: string, file: string): string;
