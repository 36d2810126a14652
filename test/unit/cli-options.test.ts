import { Command, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandGroups, registerCommands } from '../../cli/commands/index.js';
import { MAX_EVENT_ROWS } from '../../cli/commands/demo.js';
import { entityKeys } from '../../cli/commands/features.js';
import { wantsJson } from '../../cli/main.js';
import { instant, integerIn } from '../../cli/options.js';
import { featureRowsData } from '../../shared/events/catalog.js';
import { UsageError } from '../../shared/errors.js';
import { testRepo } from '../helpers/feature-fixtures.js';

describe('option values', () => {
  it('integerIn accepts plain whole numbers in range only', () => {
    const p = integerIn(1, 100);
    expect([p('1'), p('100'), p(' 42 '), p('+7')]).toEqual([1, 100, 42, 7]);
    for (const bad of ['abc', '', '12abc', '1e2', '1.5', 'NaN', 'Infinity', '0x10', '0', '101', '-1', '99999999999999999999']) {
      expect(() => p(bad), bad).toThrow(InvalidArgumentError);
    }
    expect(() => p('0')).toThrow('Expected a whole number from 1 to 100, got 0.');
  });

  it('instant accepts ISO-8601 times that exist', () => {
    expect(instant('2001-06-30T12:00:00Z').toISOString()).toBe('2001-06-30T12:00:00.000Z');
    for (const bad of ['yesterday', '2001-13-01T00:00:00Z', '']) expect(() => instant(bad), bad).toThrow(InvalidArgumentError);
  });

  it('the demo batch bound is the most rows a feature-rows event may carry', () => {
    const rows = (n: number) => ({ view: 'v', rows: Array.from({ length: n }, () => ({})) });
    expect(featureRowsData.safeParse(rows(MAX_EVENT_ROWS)).success).toBe(true);
    expect(featureRowsData.safeParse(rows(MAX_EVENT_ROWS + 1)).success).toBe(false);
  });

  it('wantsJson sees --format json anywhere before --', () => {
    expect(wantsJson(['node', 'ctloop', 'features', 'apply', '--format', 'json'])).toBe(true);
    expect(wantsJson(['node', 'ctloop', '--format=json', 'nope'])).toBe(true);
    expect(wantsJson(['node', 'ctloop', 'features', '--format', 'text'])).toBe(false);
    expect(wantsJson(['node', 'ctloop', 'run', '--', '--format', 'json'])).toBe(false);
  });
});

describe('entityKeys (features online --key)', () => {
  const route = testRepo().view('route_stats');
  it('takes each join key once, with a value', () => {
    expect(entityKeys(route, ['dest=LAX', 'origin=S=F'])).toEqual({ origin: 'S=F', dest: 'LAX' });
  });
  it.each([
    [['origin=SFO', 'dest=LAX', 'region=x'], /has no join key "region"/],
    [['origin=SFO', 'origin=LAX', 'dest=LAX'], /given twice/],
    [['origin= ', 'dest=LAX'], /empty value/],
    [['dest=LAX'], /missing --key for origin/],
    [['=SFO', 'dest=LAX'], /not name=value/],
  ])('refuses %j as a usage error', (keys, reason) => {
    expect(() => entityKeys(route, keys)).toThrow(UsageError);
    expect(() => entityKeys(route, keys)).toThrow(reason);
  });
});

describe('lazily loaded command groups', () => {
  it('list each group with the description its module registers', async () => {
    for (const g of commandGroups) {
      const program = new Command('ctloop');
      (await g.load()).register(program);
      expect(program.commands.map((c) => [c.name(), c.description()])).toEqual([[g.name, g.description]]);
    }
  });

  it('register in full only the group the command line names', async () => {
    const program = new Command('ctloop');
    await registerCommands(program, ['node', 'ctloop', '--format', 'json', 'features', 'online', '--view', 'drift']);
    const byName = new Map(program.commands.map((c) => [c.name(), c]));
    expect(byName.get('features')!.commands.map((c) => c.name())).toEqual(['apply', 'ingest', 'historical', 'online', 'materialize', 'quarantine']);
    for (const g of commandGroups.filter((x) => x.name !== 'features')) {
      expect(byName.get(g.name)!.commands.length + byName.get(g.name)!.options.length, g.name).toBe(0);
    }
    const help = new Command('ctloop');
    await registerCommands(help, ['node', 'ctloop', 'help', 'drift']);
    expect(help.commands.find((c) => c.name() === 'drift')!.options.length).toBeGreaterThan(0);
  });
});
