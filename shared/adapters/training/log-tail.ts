/** Keeps the last `maxLines` lines (and at most `maxBytes`) of a stream of text chunks. */
export class LogTail {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly maxLines = 40, private readonly maxBytes = 8000) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }

  text(): string {
    const all = [...this.lines, ...(this.partial ? [this.partial] : [])].slice(-this.maxLines).join('\n');
    return all.length > this.maxBytes ? all.slice(all.length - this.maxBytes) : all;
  }
}
