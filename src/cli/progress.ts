import { formatCount, formatDuration } from './output.js';

export interface ProgressSource {
  /** Units done so far (events published). */
  done(): number;
  /** Fraction of the input consumed, 0…1, when the input's size is known (a file); else undefined. */
  fraction?(): number | undefined;
  /** More counts shown after the rate, e.g. `2 retried  1 dead-lettered`. */
  detail?(): string;
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
    const line = renderProgress({
      label: this.#label,
      done: this.#source.done(),
      fraction: this.#source.fraction?.(),
      elapsedMs: Date.now() - this.#started,
      columns: this.#stream.columns || 80,
      detail: this.#source.detail?.(),
    });
    this.#stream.write(`\r\x1b[2K${line}`);
    this.#drawn = true;
  }

  /**
   * Writes a line to the bar's stream (a warning, an error) without mixing it into the bar: the
   * bar is erased first and redrawn at the next tick.
   */
  log(text: string): void {
    if (this.#drawn) this.#stream.write('\r\x1b[2K');
    this.#drawn = false;
    this.#stream.write(`${text}\n`);
  }
}

/** What one progress line shows. */
export interface ProgressLine {
  label: string;
  /** Units done (events). */
  done: number;
  /** 0…1 when the input's size is known: draws a bar. */
  fraction?: number | undefined;
  elapsedMs: number;
  /** The terminal's width: the line is cut to fit. @default 80 */
  columns?: number;
  /** Shown after the rate. */
  detail?: string | undefined;
}

/** The text of one progress line (pure, for tests). */
export function renderProgress({ label, done, fraction, elapsedMs, columns = 80, detail }: ProgressLine): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  let counts = `${formatCount(done)} events  ${formatCount(rate)}/s  ${formatDuration(elapsedMs)}`;
  if (detail !== undefined && detail !== '') counts += `  ${detail}`;
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
