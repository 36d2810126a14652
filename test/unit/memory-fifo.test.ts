import { describe, expect, it } from 'vitest';
import { Fifo } from '../../shared/adapters/event-bus/memory/fifo.js';

describe('the in-process bus queue (Fifo)', () => {
  it('gives items back in arrival order across compactions, and counts them', () => {
    const q = new Fifo<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) q.push(next++);
      for (let i = 0; i < 250; i++) expect(q.shift()).toBe(expected++);
      expect(q.length).toBe(next - expected);
    }
    while (q.length > 0) expect(q.shift()).toBe(expected++);
    expect(expected).toBe(next);
    expect(q.shift()).toBeUndefined();
  });

  it('is empty after clear and usable again', () => {
    const q = new Fifo<string>();
    q.push('a');
    q.push('b');
    q.clear();
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
    q.push('c');
    expect(q.shift()).toBe('c');
  });
});
