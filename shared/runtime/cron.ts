import { ValidationError } from '../errors.js';

/**
 * Standard 5-field cron (minute hour day-of-month month day-of-week), as Cloud Scheduler reads it: `*`, numbers,
 * lists `a,b`, ranges `a-b`, steps `*\/n` and `a-b/n`; day-of-week 0–7 with 0 and 7 = Sunday. As in cron, when both
 * day fields are restricted a time matches either of them.
 */
export interface Cron {
  matches(parts: { minute: number; hour: number; day: number; month: number; weekday: number }): boolean;
}

const FIELDS: [string, number, number][] = [['minute', 0, 59], ['hour', 0, 23], ['day of month', 1, 31], ['month', 1, 12], ['day of week', 0, 7]];

function parseField(text: string, [name, lo, hi]: [string, number, number], expr: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new ValidationError(`cron "${expr}": bad ${name} field "${text}"`, { hint: 'use *, n, a-b, a,b or */n' });
    const from = m[1] === '*' ? lo : Number(m[2]);
    const to = m[1] === '*' ? hi : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? hi : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < lo || to > hi || from > to || step < 1) throw new ValidationError(`cron "${expr}": ${name} "${part}" is outside ${lo}-${hi}`, { hint: 'fix the schedule' });
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

export function parseCron(expr: string): Cron {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) throw new ValidationError(`cron "${expr}" must have 5 fields`, { hint: 'e.g. "0 6 * * *" (06:00 every day)' });
  const [min, hour, dom, mon, dow] = fields.map((f, i) => parseField(f, FIELDS[i]!, expr)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (dow.has(7)) dow.add(0);
  const domAny = fields[2] === '*';
  const dowAny = fields[4] === '*';
  return {
    matches: (p) => {
      if (!min.has(p.minute) || !hour.has(p.hour) || !mon.has(p.month)) return false;
      if (domAny && dowAny) return true;
      if (domAny) return dow.has(p.weekday);
      if (dowAny) return dom.has(p.day);
      return dom.has(p.day) || dow.has(p.weekday);
    },
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock parts of an instant in a time zone (IANA name), for matching a cron expression. */
export function zonedParts(at: Date, timeZone: string): { minute: number; hour: number; day: number; month: number; weekday: number } {
  // Building a formatter costs ~140 µs, using one ~10 µs: one per time zone (a simulated clock ticks every minute).
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', minute: 'numeric', hour: 'numeric', day: 'numeric', month: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(String(parts.weekday));
  return { minute: Number(parts.minute), hour: Number(parts.hour), day: Number(parts.day), month: Number(parts.month), weekday };
}
