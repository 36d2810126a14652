/**
 * An injected change to the real flights data, for the demo. The real drift between January and June 2001 is mild
 * (measured on the 300k-departure replay: weekly windows of the flights view against the first model's January–April
 * baseline show 0% of features drifted; daily windows drift only on weekday, by construction), so the demo injects one
 * clearly labelled schedule change and prints it as such. It only rewrites departures from `start`; everything before is the real data.
 */
export interface Scenario {
  name: string;
  /** ISO date from which departures are rewritten. */
  start: string;
  /** What the change is, printed by the demo. */
  description: string;
}

export const scheduleChange: Scenario = {
  name: 'schedule-change',
  start: '2001-06-04',
  description: 'injected schedule change from 2001-06-04 (not in the real data): departures leave 3 hours later, '
    + 'weekend departures move to the Friday before, and hops under 300 miles are cancelled',
};

/** SQL over `relation` (columns flight_id, event_timestamp, origin, destination, flight_distance, delayed). */
export function scenarioSql(s: Scenario, relation: string): string {
  const start = `TIMESTAMP '${s.start.replace(/'/g, "''")}'`;
  return `SELECT flight_id,
      CASE WHEN event_timestamp < ${start} THEN event_timestamp
           ELSE event_timestamp + INTERVAL 3 HOUR - (CASE isodow(event_timestamp) WHEN 6 THEN 1 WHEN 7 THEN 2 ELSE 0 END) * INTERVAL 1 DAY
      END AS event_timestamp,
      origin, destination, flight_distance, delayed
    FROM ${relation}
    WHERE event_timestamp < ${start} OR flight_distance >= 300`;
}
