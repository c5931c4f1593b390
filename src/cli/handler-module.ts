import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Handler } from '../index.js';
import { UsageError } from './options.js';

const EXPECTED = 'a default-exported function like `export default async (event, ctx) => { … }`';

/**
 * Loads the handler of `sluice consume --handler PATH`: an ES module (or CommonJS, through Node's
 * interop) whose default export is `async (event, ctx) => void`. The path is resolved against the
 * current directory, as a user typing it expects (not against the CLI's own location, as a bare
 * `import()` would). Every way of not getting a function is a usage error naming the path.
 */
export async function loadHandler(path: string): Promise<Handler<unknown>> {
  const file = resolve(process.cwd(), path);
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new UsageError(`Cannot load \`--handler\` \`${path}\`: ${reason} (expected a JavaScript module with ${EXPECTED})`);
  }
  if (!isFile) throw new UsageError(`Cannot load \`--handler\` \`${path}\`: it is not a file (expected a JavaScript module with ${EXPECTED})`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    // A syntax error, a module that throws while loading, a missing import, a `.ts` file…
    throw new UsageError(`Cannot load \`--handler\` \`${path}\`: ${describeLoadError(error)}`);
  }
  const handler = module.default;
  if (typeof handler !== 'function') {
    const got = handler === undefined ? 'no default export' : `a default export of type ${handler === null ? 'null' : typeof handler}`;
    throw new UsageError(`Expected \`--handler\` \`${path}\` to have ${EXPECTED}, got ${got}`);
  }
  return handler as Handler<unknown>;
}

function describeLoadError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if ((error as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
    return `${error.message} (compile it to JavaScript first: .mjs, .js or .cjs)`;
  }
  return `${error.name}: ${error.message}`;
}
