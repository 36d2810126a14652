/**
 * A record of a file that could not be read as a row (ragged CSV line, unclosed quote, invalid JSON, over-long
 * line): it is quarantined with its reason and (the start of) its text, like a row that fails validation.
 */
export class BadRecord {
  constructor(readonly reason: string, readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}
