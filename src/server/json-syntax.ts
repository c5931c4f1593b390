/**
 * Where a JSON text is malformed, for error messages that a person can act on. `JSON.parse`
 * says what went wrong in words that change between Node versions, and not always where; this
 * scanner runs only after `JSON.parse` has failed and finds the first offending character.
 *
 * It follows RFC 8259 exactly as `JSON.parse` does (whitespace is space, tab, CR and LF; no
 * comments, no trailing commas, no leading zeros), and it is iterative, so a deeply nested body
 * cannot overflow the stack.
 */

export interface JsonSyntaxError {
  /** Index in the text (UTF-16 code units) of the first character that cannot be there. */
  offset: number;
  /** What is wrong there, e.g. "unexpected `}`, expected a value". */
  reason: string;
}

/** The first syntax error of `text.slice(start, end)` as one JSON value, or undefined when it is valid. */
export function findJsonSyntaxError(text: string, start = 0, end = text.length): JsonSyntaxError | undefined {
  const scanner = new Scanner(text, start, end);
  try {
    scanner.document();
    return undefined;
  } catch (error) {
    if (error instanceof SyntaxFound) return { offset: error.offset, reason: error.reason };
    throw error;
  }
}

class SyntaxFound {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const OPEN_OBJECT = 1;
const OPEN_ARRAY = 2;

class Scanner {
  #i: number;

  constructor(
    private readonly text: string,
    start: number,
    private readonly end: number,
  ) {
    this.#i = start;
  }

  document(): void {
    const stack: number[] = [];
    this.#space();
    // Each turn reads one value, then the punctuation after it, until the outermost one is done.
    for (;;) {
      const opened = this.#value();
      if (opened !== 0) {
        this.#space();
        const close = opened === OPEN_OBJECT ? '}' : ']';
        if (this.#peek() === close) {
          this.#i++;
        } else {
          stack.push(opened);
          if (opened === OPEN_OBJECT) this.#member();
          continue;
        }
      }
      // After a complete value: `,` or the closing bracket of the innermost container.
      for (;;) {
        this.#space();
        const container = stack[stack.length - 1];
        if (container === undefined) {
          if (this.#i < this.end) this.#fail('unexpected text after the JSON value');
          return;
        }
        const close = container === OPEN_OBJECT ? '}' : ']';
        const c = this.#peek();
        if (c === ',') {
          this.#i++;
          this.#space();
          if (container === OPEN_OBJECT) this.#member();
          break;
        }
        if (c === close) {
          this.#i++;
          stack.pop();
          continue;
        }
        this.#fail(`${this.#found()}, expected \`,\` or \`${close}\``);
      }
    }
  }

  /** A member's name and colon; its value follows. */
  #member(): void {
    if (this.#peek() !== '"') this.#fail(`${this.#found()}, expected a property name in double quotes`);
    this.#string();
    this.#space();
    if (this.#peek() !== ':') this.#fail(`${this.#found()}, expected \`:\` after the property name`);
    this.#i++;
    this.#space();
  }

  /** Reads a scalar, or the opening bracket of a container (returned, to be filled by the caller). */
  #value(): number {
    const c = this.#peek();
    if (c === '{') {
      this.#i++;
      this.#space();
      if (this.#peek() !== '}' && this.#peek() !== '"') this.#fail(`${this.#found()}, expected a property name in double quotes or \`}\``);
      return OPEN_OBJECT;
    }
    if (c === '[') {
      this.#i++;
      return OPEN_ARRAY;
    }
    if (c === '"') this.#string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) this.#number();
    else if (c === 't') this.#literal('true');
    else if (c === 'f') this.#literal('false');
    else if (c === 'n') this.#literal('null');
    else this.#fail(`${this.#found()}, expected a value`);
    return 0;
  }

  #string(): void {
    const opened = this.#i;
    this.#i++;
    for (;;) {
      if (this.#i >= this.end) throw new SyntaxFound(opened, 'string never closed (it starts here)');
      const code = this.text.charCodeAt(this.#i);
      if (code === 0x22 /* " */) {
        this.#i++;
        return;
      }
      if (code < 0x20) this.#fail(`${this.#found()} inside a string (escape it)`);
      if (code === 0x5c /* \ */) {
        this.#i++;
        const escape = this.#peek();
        if (escape === 'u') {
          for (let k = 1; k <= 4; k++) {
            const hex = this.text[this.#i + k];
            if (this.#i + k >= this.end || hex === undefined || !/[0-9a-fA-F]/.test(hex)) {
              this.#i += k;
              this.#fail(`${this.#found()} in a \\u escape, expected 4 hexadecimal digits`);
            }
          }
          this.#i += 5;
          continue;
        }
        if (escape === undefined || !'"\\/bfnrt'.includes(escape)) this.#fail(`${this.#found()} after \\, expected one of " \\ / b f n r t u`);
        this.#i++;
        continue;
      }
      this.#i++;
    }
  }

  #number(): void {
    if (this.#peek() === '-') this.#i++;
    if (this.#peek() === '0') this.#i++;
    else this.#digits('a digit');
    if (this.#peek() === '.') {
      this.#i++;
      this.#digits('a digit after the decimal point');
    }
    const e = this.#peek();
    if (e === 'e' || e === 'E') {
      this.#i++;
      const sign = this.#peek();
      if (sign === '+' || sign === '-') this.#i++;
      this.#digits('a digit in the exponent');
    }
  }

  #digits(expected: string): void {
    const from = this.#i;
    while (this.#i < this.end) {
      const c = this.text.charCodeAt(this.#i);
      if (c < 0x30 || c > 0x39) break;
      this.#i++;
    }
    if (this.#i === from) this.#fail(`${this.#found()}, expected ${expected}`);
  }

  #literal(word: string): void {
    for (let k = 0; k < word.length; k++) {
      if (this.#peek() !== word[k]) this.#fail(`${this.#found()}, expected \`${word}\``);
      this.#i++;
    }
  }

  #space(): void {
    while (this.#i < this.end) {
      const c = this.text.charCodeAt(this.#i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.#i++;
    }
  }

  #peek(): string | undefined {
    return this.#i < this.end ? this.text[this.#i] : undefined;
  }

  /** "unexpected `x`", "unexpected end of input", or the code point of an invisible character. */
  #found(): string {
    if (this.#i >= this.end) return 'unexpected end of input';
    const code = this.text.codePointAt(this.#i) as number;
    if (code < 0x20 || code === 0x7f || code === 0xfeff || (code >= 0x80 && code <= 0x9f)) {
      return `unexpected character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    }
    return `unexpected \`${String.fromCodePoint(code)}\``;
  }

  #fail(reason: string): never {
    throw new SyntaxFound(this.#i, reason);
  }
}

/** Line and column (both from 1; the column counts characters) of an offset in a text. */
export function lineAndColumn(text: string, offset: number, start = 0): { line: number; column: number } {
  let line = 1;
  let lineStart = start;
  for (let i = text.indexOf('\n', start); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  // Columns count code points, as editors do: a character outside the BMP is one column.
  let column = 1;
  for (let i = lineStart; i < offset; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdbff || i + 1 >= offset) column++;
  }
  return { line, column };
}
