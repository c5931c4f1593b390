/** One sample line of the Prometheus text format. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The parsed exposition: its samples and the `# TYPE` of each metric family. */
export interface PromText {
  samples: PromSample[];
  types: Map<string, string>;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text format strictly: a line that is neither a comment nor a sample throws. */
export function parsePromText(text: string): PromText {
  const samples: PromSample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name as string, type as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) labels[key as string] = (raw as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const rawValue = match[3] as string;
    // Prometheus reads NaN in any case (prom-client writes `Nan`).
    const nan = rawValue.toLowerCase() === 'nan';
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : nan ? Number.NaN : Number(rawValue);
    if (Number.isNaN(value) && !nan) throw new Error(`not a sample value: ${line}`);
    samples.push({ name: match[1] as string, labels, value });
  }
  return { samples, types };
}

/** The samples of `name` whose labels include `labels`. */
export function find(text: PromText, name: string, labels: Record<string, string> = {}): PromSample[] {
  return text.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample of `name` with exactly `labels`; undefined when there is none. */
export function valueOf(text: PromText, name: string, labels: Record<string, string> = {}): number | undefined {
  const keys = Object.keys(labels);
  const matches = find(text, name, labels).filter((s) => Object.keys(s.labels).length === keys.length);
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}
