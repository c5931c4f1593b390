/**
 * `${NAME}` and `${NAME:-default}` in the text values of a pipeline file, so that secrets stay
 * in the environment: `connectionString: ${DATABASE_URL}`. `$${` writes a literal `${`.
 * Substitution happens on parsed values (never on the file's text), so a variable's value can
 * never change the file's structure, and errors can still point at the line.
 */

/** A reference that cannot be substituted: a variable that is not set, or a malformed `${…}`. */
export class EnvReferenceError extends Error {
  constructor(
    message: string,
    /** The variable's name, when the reference was well formed. */
    readonly variable: string | undefined,
  ) {
    super(message);
  }
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The text with its references replaced. Throws `EnvReferenceError` for a variable that is not
 * set (and has no default) or a malformed reference.
 */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (match: string, inner: string | undefined) => {
    if (match === '$${') return '${';
    if (!match.endsWith('}')) throw new EnvReferenceError(`\`${match}\` is not closed: write \${NAME} or \${NAME:-default}`, undefined);
    const reference = inner as string;
    const separator = reference.indexOf(':-');
    const name = separator < 0 ? reference : reference.slice(0, separator);
    if (!NAME.test(name)) throw new EnvReferenceError(`\`${match}\` is not a variable reference: write \${NAME} or \${NAME:-default}, NAME of letters, digits and _`, undefined);
    const value = env[name];
    // As in a shell, `:-` takes the default when the variable is unset or empty.
    if (value !== undefined && (value !== '' || separator < 0)) return value;
    if (separator >= 0) return reference.slice(separator + 2);
    throw new EnvReferenceError(`environment variable ${name} is not set (set it, or write \${${name}:-default} for a default)`, name);
  });
}

/** True when the whole text is one `${…}` reference (its value may then be a number or a boolean). */
export function isWholeReference(text: string): boolean {
  return /^\$\{[^}]*\}$/.test(text.trim());
}
