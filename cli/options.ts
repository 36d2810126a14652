import { InvalidArgumentError } from 'commander';
import { parseInstant } from '../shared/time.js';

/**
 * Parsers for option values. Each one rejects a bad value while commander parses the command line, so the error is a
 * usage error (exit 2) that names the option, the value and the allowed range, and no work has started.
 */

/** A whole number in [min, max], written as plain digits (`12abc`, `1e3`, `1.5` and `NaN` are refused). */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const v = value.trim();
    const n = /^[+-]?\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`Expected a whole number from ${fmt(min)} to ${fmt(max)}, got "${value}".`);
    if (n < min || n > max) throw new InvalidArgumentError(`Expected a whole number from ${fmt(min)} to ${fmt(max)}, got ${fmt(n)}.`);
    return n;
  };
}

/** An ISO-8601 instant that exists on the calendar (e.g. 2001-06-30T12:00:00Z). */
export function instant(value: string): Date {
  const r = parseInstant(value);
  if (!r.ok) throw new InvalidArgumentError(`Expected an ISO-8601 time such as 2001-06-30T12:00:00Z, got "${value}": ${r.reason}.`);
  return r.date;
}

const fmt = (n: number) => String(n);
