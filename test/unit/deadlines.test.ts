import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TransientError } from '../../shared/errors.js';
import { withDeadline } from '../../shared/runtime/cloud-event.js';
import { runWithDeadline } from '../../shared/runtime/deadlines.js';

describe('runWithDeadline (the local loop\'s deadline)', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }); });
  afterEach(() => { vi.useRealTimers(); });

  it('rejects a handler still running at its deadline with withDeadline\'s TransientError and aborts its signal', async () => {
    let seen: AbortSignal | undefined;
    const p = runWithDeadline('ingest-features', 5_000, (signal) => { seen = signal(); return new Promise<void>(() => undefined); });
    const settled = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(seen!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const err = await settled;
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('ingest-features: stopped 5 s into the invocation, before the function\'s deadline');
    expect(seen!.aborted).toBe(true);
    expect(seen!.reason).toBe(err);
  });

  it('gives each of many invocations its own deadline from its own start, under one timer', async () => {
    const results: string[] = [];
    const hang = () => new Promise<void>(() => undefined);
    const a = runWithDeadline('f', 1_000, hang).catch(() => results.push('a'));
    await vi.advanceTimersByTimeAsync(400);
    const b = runWithDeadline('f', 1_000, hang).catch(() => results.push('b'));
    let finishC!: () => void;
    const c = runWithDeadline('f', 1_000, () => new Promise<void>((r) => { finishC = r; })).then(() => results.push('c ok'));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(600);
    await a;
    expect(results).toEqual(['a']);
    finishC();
    await c;
    await vi.advanceTimersByTimeAsync(399);
    expect(results).toEqual(['a', 'c ok']);
    await vi.advanceTimersByTimeAsync(1);
    await b;
    expect(results).toEqual(['a', 'c ok', 'b']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes results and errors through, leaves no timer behind, and hands out an aborted signal after the deadline', async () => {
    await expect(runWithDeadline('f', 1_000, async () => undefined)).resolves.toBeUndefined();
    await expect(runWithDeadline('f', 1_000, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(runWithDeadline('f', 1_000, () => { throw new Error('sync boom'); })).rejects.toThrow('sync boom');
    expect(vi.getTimerCount()).toBe(0);
    let late: (() => AbortSignal) | undefined;
    const p = runWithDeadline('f', 1_000, (signal) => { late = signal; return new Promise<void>(() => undefined); }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    const err = await p;
    expect(late!().aborted).toBe(true);
    expect(late!().reason).toBe(err);
  });
});

describe('withDeadline (a Cloud Function invocation\'s deadline) is the same deadline', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }); });
  afterEach(() => { vi.useRealTimers(); });

  it('hands the handler an AbortSignal, aborts it at the deadline and rejects with the same TransientError', async () => {
    let seen: AbortSignal | undefined;
    const settled = withDeadline('deploy-model', 2_000, (signal) => { seen = signal; return new Promise<void>(() => undefined); }).catch((e: unknown) => e);
    expect(seen!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    const err = await settled;
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('deploy-model: stopped 2 s into the invocation, before the function\'s deadline');
    expect(seen!.reason).toBe(err);
  });

  it('without a timeout runs the work with a signal that never aborts', async () => {
    let seen: AbortSignal | undefined;
    await withDeadline('f', undefined, async (signal) => { seen = signal; });
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(seen!.aborted).toBe(false);
  });
});
