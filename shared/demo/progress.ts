import type { StageProgress } from './stage.js';

/**
 * Progress and narrative on a stream (stderr). In a terminal: one live bar for the running stage, narrative lines
 * printed above it. Piped or under CI=true: plain lines only, no escape codes (every update is its own line).
 */
export class DemoReporter {
  private live: string | null = null;

  constructor(private readonly out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean }, private readonly fancy = Boolean(out.isTTY) && !isCi()) {}

  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
    this.redraw();
  }

  stage(index: number, total: number, name: string): StageProgress & { done(seconds: number, headline: string): void; failed(seconds: number): void } {
    const tag = `[${index}/${total}] ${name}`;
    this.line(`${tag} …`);
    return {
      update: (done, of, note) => {
        const pct = of > 0 ? Math.min(1, done / of) : 0;
        if (this.fancy) {
          const width = 24;
          const full = Math.round(pct * width);
          this.live = `${tag} ${'█'.repeat(full)}${'░'.repeat(width - full)} ${done}/${of}${note ? ` ${note}` : ''}`;
          this.redraw();
        } else {
          this.out.write(`${tag} ${done}/${of}${note ? ` ${note}` : ''}\n`);
        }
      },
      done: (seconds, headline) => {
        this.live = null;
        this.line(`${tag} done in ${seconds.toFixed(1)} s: ${headline}`);
      },
      failed: (seconds) => {
        this.live = null;
        this.line(`${tag} FAILED after ${seconds.toFixed(1)} s`);
      },
    };
  }

  private clear(): void {
    if (this.fancy && this.live !== null) this.out.write('\r\x1b[2K');
  }

  private redraw(): void {
    if (this.fancy && this.live !== null) this.out.write(`\r\x1b[2K${this.live}`);
  }
}

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}
