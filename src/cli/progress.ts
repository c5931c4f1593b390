import { formatCount, formatDuration } from './output.js';

export interface ProgressSource {
  /** Units done so far (events published). */
  done(): number;
  /** Fraction of the input consumed, 0…1, when the input's size is known (a file); else undefined. */
  fraction?(): number | undefined;
}

const WIDTH = 20;
const REDRAW_MS = 100;

/**
 * A one-line progress bar on stderr, redrawn in place a few times a second: a bar when the size of
 * the input is known, else a count, plus the rate. Only for a terminal: on a pipe or a file it
 * draws nothing, so logs stay clean.
 */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #source: ProgressSource;
  readonly #label: string;
  readonly #started = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #drawn = false;

  constructor(source: ProgressSource, options: { label: string; stream?: NodeJS.WriteStream }) {
    this.#source = source;
    this.#label = options.label;
    this.#stream = options.stream ?? process.stderr;
  }

  /** Whether a bar can be drawn (the stream is a terminal). */
  get enabled(): boolean {
    return this.#stream.isTTY === true;
  }

  start(): this {
    if (!this.enabled || this.#timer) return this;
    this.#timer = setInterval(() => this.#draw(), REDRAW_MS);
    // The bar must never keep the process alive on its own.
    this.#timer.unref();
    return this;
  }

  /** Stops redrawing and erases the bar, leaving the line free for the summary. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#drawn) this.#stream.write('\r\x1b[2K');
    this.#drawn = false;
  }

  #draw(): void {
    this.#stream.write(`\r\x1b[2K${renderProgress(this.#label, this.#source.done(), this.#source.fraction?.(), Date.now() - this.#started, this.#stream.columns || 80)}`);
    this.#drawn = true;
  }
}

/** The text of one progress line (pure, for tests). */
export function renderProgress(label: string, done: number, fraction: number | undefined, elapsedMs: number, columns = 80): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const counts = `${formatCount(done)} events  ${formatCount(rate)}/s  ${formatDuration(elapsedMs)}`;
  let line: string;
  if (fraction === undefined) {
    line = `${label}  ${counts}`;
  } else {
    const f = Math.min(1, Math.max(0, fraction));
    const filled = Math.round(f * WIDTH);
    line = `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%  ${counts}`;
  }
  return line.length >= columns ? line.slice(0, Math.max(0, columns - 1)) : line;
}
