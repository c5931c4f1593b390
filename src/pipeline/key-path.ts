import { InvalidOptionError } from '../errors.js';

/**
 * Key paths name a place in a pipeline config, the way error messages show it:
 * `steps[1].route[0].when`, `sinks[0].table`, `pipelines[2].source.stream`. The YAML loader turns
 * them back into segments to find the line and column of the key.
 */
export type KeyPath = ReadonlyArray<string | number>;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Renders segments as a key path: names joined by dots, indexes (and odd names) in brackets. */
export function renderKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** Appends segments to a rendered key path (`at` may be empty). */
export function keyAt(at: string, ...segments: Array<string | number>): string {
  const tail = renderKeyPath(segments);
  if (at === '') return tail;
  return tail.startsWith('[') ? `${at}${tail}` : `${at}.${tail}`;
}

/**
 * Parses a rendered key path back into segments; undefined when the text is not one (an option
 * name of a library error that is not a path, like `options`).
 */
export function parseKeyPath(text: string): Array<string | number> | undefined {
  const segments: Array<string | number> = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === '.') {
      if (i === 0) return undefined;
      i++;
      continue;
    }
    if (char === '[') {
      const close = text.indexOf(']', i);
      if (close < 0) return undefined;
      const inner = text.slice(i + 1, close);
      if (/^\d+$/.test(inner)) {
        segments.push(Number(inner));
        i = close + 1;
        continue;
      }
      // A quoted name: find the closing quote first, as the name may hold `]`.
      const end = findQuoteEnd(text, i + 1);
      if (end < 0 || text[end + 1] !== ']') return undefined;
      try {
        segments.push(JSON.parse(text.slice(i + 1, end + 1)) as string);
      } catch {
        return undefined;
      }
      i = end + 2;
      continue;
    }
    let end = i;
    while (end < text.length && text[end] !== '.' && text[end] !== '[') end++;
    segments.push(text.slice(i, end));
    i = end;
  }
  return segments;
}

function findQuoteEnd(text: string, start: number): number {
  if (text[start] !== '"') return -1;
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/**
 * An `InvalidOptionError` for the key `path` with a message of the caller's: for errors that must
 * not repeat the value (a token), or that pass on another check's message under a longer path.
 */
export function optionError(path: string, message: string, value?: unknown): InvalidOptionError {
  const error = new InvalidOptionError(path, value, 'valid');
  error.message = message;
  return error;
}

/**
 * The same error under a longer key path: `concurrency` becomes `consumer.concurrency`, in
 * `option` and in the message, so that a config loader finds the key.
 */
export function prefixOptionError(error: InvalidOptionError, prefix: string): InvalidOptionError {
  const path = keyAt(prefix, ...(parseKeyPath(error.option) ?? [error.option]));
  const message = error.message.includes(`\`${error.option}\``) ? error.message.replace(`\`${error.option}\``, `\`${path}\``) : `\`${path}\`: ${error.message}`;
  return optionError(path, message, error.value);
}
