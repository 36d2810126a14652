import { describe, expect, it } from 'vitest';
import { catalog } from '../../shared/events/catalog.js';
import { envelopeFromDataOnlyMessage } from '../../shared/topology/scheduler-message.js';

const attributes = { 'ctloop-body': 'data', type: catalog.driftCheckRequested.type, source: 'cloud-scheduler/job' };
const message = (publishTime: string, body: unknown = { view: 'v' }) => ({ body, attributes, messageId: 'm1', publishTime });

describe('scheduler payloads', () => {
  it('stamps the envelope with the strict publish time', () => {
    expect(envelopeFromDataOnlyMessage(message('2001-03-01T08:00:00.123456789Z')).time).toBe('2001-03-01T08:00:00.123Z');
  });

  it('refuses an impossible publish time instead of rolling it over (or crashing with a RangeError)', () => {
    expect(() => envelopeFromDataOnlyMessage(message('2001-02-30T00:00:00Z'))).toThrow(/invalid publishTime "2001-02-30T00:00:00Z": day 30 does not exist/);
    expect(() => envelopeFromDataOnlyMessage(message('soon'))).toThrow(/invalid publishTime "soon"/);
  });

  it('refuses impossible times in the payload', () => {
    const body = { view: 'v', window: { start: '2001-02-29T00:00:00Z', end: '2001-03-02T00:00:00Z' } };
    expect(() => envelopeFromDataOnlyMessage(message('2001-03-02T00:00:00Z', body))).toThrow(/February 2001 has 28 days/);
  });
});
