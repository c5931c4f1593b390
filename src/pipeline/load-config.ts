import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parse as parseYamlScalar, Scalar, type Document, type Node } from 'yaml';
import { InvalidOptionError, SluiceError } from '../errors.js';
import type { PipelineConfig } from './config.js';
import { optionDetail, PipelineConfigError, type FilePosition } from './config-error.js';
import { definePipeline, Pipeline } from './define-pipeline.js';
import { EnvReferenceError, isWholeReference, substituteEnv } from './env-substitution.js';
import { InvalidExpressionError } from './expression.js';
import { keyAt, parseKeyPath, renderKeyPath, type KeyPath } from './key-path.js';

export interface LoadPipelinesOptions {
  /** Where `${NAME}` references are looked up. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const YAML_EXTENSIONS = ['.yaml', '.yml'];
const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs'];

/**
 * Loads the pipelines of a file and checks everything that can be checked without connecting:
 * keys and values, expressions, sink configs, map modules, a file source's file. A YAML file
 * holds one pipeline (its top-level keys are a `PipelineConfig`) or several under `pipelines:`;
 * a JavaScript module exports them (default export: a pipeline, a config, or a list of them).
 *
 * Every problem is a `PipelineConfigError` reading `file:line:col: key: what is wrong`.
 */
export async function loadPipelineFile(path: string, options: LoadPipelinesOptions = {}): Promise<Pipeline[]> {
  const file = resolve(path);
  const extension = extname(file).toLowerCase();
  if (extension === '.ts' || extension === '.mts' || extension === '.cts') {
    throw new PipelineConfigError(path, 'TypeScript cannot be run directly: compile it to JavaScript (tsc) and run the .js file');
  }
  if (!YAML_EXTENSIONS.includes(extension) && !MODULE_EXTENSIONS.includes(extension)) {
    throw new PipelineConfigError(path, `expected a pipeline file ending in ${[...YAML_EXTENSIONS, ...MODULE_EXTENSIONS].join(', ')}`);
  }
  const found = await stat(file).then(
    (s) => (s.isFile() ? undefined : 'it is not a file'),
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? 'no such file' : error.code === 'EACCES' ? 'permission denied' : error.message),
  );
  if (found !== undefined) throw new PipelineConfigError(path, `cannot read the pipeline file: ${found}`);
  if (MODULE_EXTENSIONS.includes(extension)) return loadPipelineModule(path, file);
  const text = await readFile(file, 'utf8');
  const parsed = parsePipelineYaml(text, { file: path, baseDir: dirname(file), env: options.env ?? process.env });
  for (const pipeline of parsed.pipelines) {
    try {
      await pipeline.prepare();
    } catch (error) {
      throw parsed.locate(error);
    }
  }
  return parsed.pipelines;
}

export interface ParsePipelineYamlOptions {
  /** The file's name, for messages. */
  file: string;
  /** Folder relative paths are resolved against (the file's). @default the current folder */
  baseDir?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Pipelines from YAML text, and a way to place an error of theirs in the text. */
export interface ParsedPipelineYaml {
  pipelines: Pipeline[];
  /** Turns an `InvalidOptionError` (from `prepare()`) into a `PipelineConfigError` at its key; other errors are returned as they are. */
  locate(error: unknown): unknown;
}

/**
 * Parses and defines the pipelines of a YAML text (synchronously: map modules and source files
 * are checked by `prepare()`). Throws `PipelineConfigError` with the line and column.
 */
export function parsePipelineYaml(text: string, options: ParsePipelineYamlOptions): ParsedPipelineYaml {
  const { file } = options;
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const list = Array.isArray(documents) ? documents : [];
  const first = list[0];
  for (const document of list) {
    const error = document.errors[0];
    if (error) {
      throw new PipelineConfigError(file, `invalid YAML: ${error.message.split('\n')[0]}`, { position: positionOf(lines, error.pos[0]) });
    }
  }
  if (first === undefined || first.contents === null) throw new PipelineConfigError(file, 'the file is empty: expected a pipeline (name, source, steps, sinks) or `pipelines:` with a list of them');
  if (list.length > 1) {
    const second = list[1] as Document;
    throw new PipelineConfigError(file, 'expected one YAML document: put several pipelines under `pipelines:` as a list', { position: positionOf(lines, second.range?.[0] ?? 0) });
  }
  const document = first;
  const locate = (error: unknown): unknown => locateError(error, document, lines, file);
  const env = options.env ?? process.env;
  const root = substituteAll(document.toJS({ maxAliasCount: 100 }) as unknown, [], { document, lines, file, env });
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new PipelineConfigError(file, 'expected a pipeline (name, source, steps, sinks) or `pipelines:` with a list of them', { position: positionOf(lines, document.contents?.range?.[0] ?? 0) });
  }
  const entries: Array<{ config: unknown; at: string }> = [];
  if ('pipelines' in root) {
    const { pipelines, ...rest } = root as { pipelines: unknown };
    const other = Object.keys(rest)[0];
    if (other !== undefined) throw locate(new InvalidOptionError(other, (rest as Record<string, unknown>)[other], 'absent: with `pipelines:`, every key belongs to one of the pipelines'));
    if (!Array.isArray(pipelines) || pipelines.length === 0) throw locate(new InvalidOptionError('pipelines', pipelines, 'a list of pipelines, each with name, source, steps and sinks'));
    pipelines.forEach((config, index) => entries.push({ config, at: keyAt('pipelines', index) }));
  } else {
    entries.push({ config: root, at: '' });
  }
  const pipelines: Pipeline[] = [];
  for (const { config, at } of entries) {
    try {
      pipelines.push(definePipeline(config as PipelineConfig, { at, baseDir: options.baseDir }));
    } catch (error) {
      throw locate(error);
    }
  }
  checkUnique(pipelines, entries, locate);
  return { pipelines, locate };
}

/** Two pipelines of a file with the same name, or reading the same stream with the same group, would share one group's events. */
function checkUnique(pipelines: readonly Pipeline[], entries: ReadonlyArray<{ at: string }>, locate: (error: unknown) => unknown): void {
  const names = new Map<string, number>();
  const groups = new Map<string, number>();
  pipelines.forEach((pipeline, index) => {
    const at = (entries[index] as { at: string }).at;
    const sameName = names.get(pipeline.name);
    if (sameName !== undefined) {
      throw locate(new InvalidOptionError(keyAt(at, 'name'), pipeline.name, `a name of its own (${(entries[sameName] as { at: string }).at} has it too)`));
    }
    names.set(pipeline.name, index);
    const group = `${pipeline.stream}\u0000${pipeline.group}`;
    const sameGroup = groups.get(group);
    if (sameGroup !== undefined) {
      throw locate(new InvalidOptionError(keyAt(at, 'source', 'group'), pipeline.group, `a group of its own on ${pipeline.stream} (${(entries[sameGroup] as { at: string }).at} reads it with the same group: they would split its events)`));
    }
    groups.set(group, index);
  });
}

interface SubstitutionContext {
  document: Document;
  lines: LineCounter;
  file: string;
  env: NodeJS.ProcessEnv;
}

/** Replaces `${NAME}` references in every text value, depth first, keeping track of the key path for errors. */
function substituteAll(value: unknown, path: Array<string | number>, context: SubstitutionContext): unknown {
  if (typeof value === 'string') return substituteValue(value, path, context);
  if (Array.isArray(value)) return value.map((item, index) => substituteAll(item, [...path, index], context));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteAll(item, [...path, key], context);
    return out;
  }
  return value;
}

function substituteValue(text: string, path: KeyPath, context: SubstitutionContext): unknown {
  if (!text.includes('${')) return text;
  let substituted: string;
  try {
    substituted = substituteEnv(text, context.env);
  } catch (error) {
    if (!(error instanceof EnvReferenceError)) throw error;
    const found = findNode(context.document, path);
    throw new PipelineConfigError(context.file, error.message, { position: positionOf(context.lines, found.valueStart ?? found.keyStart), key: renderKeyPath(path) || undefined });
  }
  // `port: ${PORT}` written plainly reads as YAML would read the value (a number, a boolean);
  // a quoted `'${PORT}'` stays text.
  if (isWholeReference(text)) {
    const node = findNode(context.document, path).node;
    if (isScalar(node) && node.type === Scalar.PLAIN) {
      try {
        const typed = parseYamlScalar(substituted) as unknown;
        if (typeof typed === 'number' || typeof typed === 'boolean') return typed;
      } catch {
        // not a scalar on its own: keep the text
      }
    }
  }
  return substituted;
}

interface FoundNode {
  /** The node at the path, when every segment was found. */
  node: Node | undefined;
  /** Offset of the key (or list item) of the deepest segment found. */
  keyStart: number;
  /** Offset of the value, when every segment was found. */
  valueStart: number | undefined;
}

/** Follows a key path through the YAML document, as far as it exists. */
function findNode(document: Document, path: KeyPath): FoundNode {
  let node: unknown = document.contents;
  let keyStart = (document.contents as Node | null)?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(document);
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === String(segment));
      if (pair === undefined) return { node: undefined, keyStart, valueStart: undefined };
      keyStart = (pair.key as Node | null)?.range?.[0] ?? keyStart;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (item === undefined) return { node: undefined, keyStart, valueStart: undefined };
      keyStart = item.range?.[0] ?? keyStart;
      node = item;
    } else {
      return { node: undefined, keyStart, valueStart: undefined };
    }
  }
  if (isAlias(node)) node = node.resolve(document);
  const found = node as Node | undefined;
  return { node: found, keyStart, valueStart: found?.range?.[0] };
}

function positionOf(lines: LineCounter, offset: number): FilePosition {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/**
 * An option error of a pipeline in the document, placed at its key: the key itself, or for an
 * expression that does not parse, the character where it stops making sense.
 */
function locateError(error: unknown, document: Document, lines: LineCounter, file: string): unknown {
  if (!(error instanceof InvalidOptionError)) {
    if (error instanceof SluiceError && !(error instanceof PipelineConfigError)) return new PipelineConfigError(file, error.message, { cause: error });
    return error;
  }
  const path = parseKeyPath(error.option) ?? [];
  const found = findNode(document, path);
  let offset = found.keyStart;
  if (error instanceof InvalidExpressionError && error.offset !== undefined && isScalar(found.node) && found.valueStart !== undefined) {
    const scalar = found.node;
    const quoted = scalar.type === Scalar.QUOTE_DOUBLE || scalar.type === Scalar.QUOTE_SINGLE;
    const source = scalar.source ?? String(scalar.value);
    // Only where the text is the expression character for character (no escapes, one line).
    if ((quoted || scalar.type === Scalar.PLAIN) && !source.includes('\n') && (!quoted || !/[\\']/.test(source))) offset = found.valueStart + (quoted ? 1 : 0) + error.offset;
  }
  return new PipelineConfigError(file, optionDetail(error), { position: positionOf(lines, offset), key: error.option, cause: error });
}

/** Pipelines exported by a JavaScript module: its default export, else `pipelines` or `pipeline`. */
async function loadPipelineModule(path: string, file: string): Promise<Pipeline[]> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new PipelineConfigError(path, `cannot load the module: ${reason}`, { cause: error });
  }
  const exported = loaded.default ?? loaded.pipelines ?? loaded.pipeline;
  if (exported === undefined) {
    throw new PipelineConfigError(path, 'expected the module to export its pipelines: `export default definePipeline({ … })` (or a list of them)');
  }
  const list = Array.isArray(exported) ? exported : [exported];
  if (list.length === 0) throw new PipelineConfigError(path, 'the module exports an empty list of pipelines');
  const pipelines: Pipeline[] = [];
  const entries: Array<{ at: string }> = [];
  const asConfigError = (error: unknown) => (error instanceof InvalidOptionError ? new PipelineConfigError(path, optionDetail(error), { key: error.option, cause: error }) : error);
  for (const [index, item] of list.entries()) {
    const at = Array.isArray(exported) ? `[${index}]` : '';
    try {
      // A pipeline built by another copy of Sluice is defined again by this one, from its config.
      const pipeline = item instanceof Pipeline ? item : definePipeline(Pipeline.is(item) ? item.config : (item as PipelineConfig), { at, baseDir: dirname(file) });
      await pipeline.prepare();
      pipelines.push(pipeline);
      entries.push({ at });
    } catch (error) {
      throw asConfigError(error);
    }
  }
  checkUnique(pipelines, entries, asConfigError);
  return pipelines;
}
