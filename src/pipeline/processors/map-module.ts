import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidOptionError } from '../../errors.js';
import type { MapFunction, MapModule, PipelineEvent } from '../config.js';
import { keyAt, optionError } from '../key-path.js';
import { functionMapProcessor } from './map.js';
import type { Processor, StepResult } from './processor.js';

/**
 * `{ map: { module: './enrich.mjs', export: 'addRegion' } }`: a map function from a JavaScript
 * module, imported by `load()` before the pipeline connects anywhere (a missing file or export is
 * a configuration error naming the key). A relative path is resolved against `baseDir` (the YAML
 * file's folder); a bare name is imported as a package.
 */
export class ModuleMapProcessor implements Processor {
  readonly at: string;
  readonly #module: string;
  readonly #export: string;
  readonly #baseDir: string;
  #inner: Processor | undefined;
  #loading: Promise<void> | undefined;

  constructor(spec: MapModule, at: string, baseDir: string) {
    this.at = at;
    const path = keyAt(at, 'map', 'module');
    if (typeof spec.module !== 'string' || spec.module.trim() === '') throw new InvalidOptionError(path, spec.module, 'a module path like ./enrich.mjs');
    if (spec.export !== undefined && (typeof spec.export !== 'string' || spec.export === '')) {
      throw new InvalidOptionError(keyAt(at, 'map', 'export'), spec.export, 'the name of an exported function');
    }
    this.#module = spec.module;
    this.#export = spec.export ?? 'default';
    this.#baseDir = baseDir;
  }

  /** Imports the module once; throws `InvalidOptionError` naming the key if that fails. */
  load(): Promise<void> {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  process(event: PipelineEvent): StepResult {
    if (this.#inner === undefined) throw new Error(`${this.at}: the map module ${this.#module} was not loaded (runPipeline loads it)`);
    return this.#inner.process(event);
  }

  async #load(): Promise<void> {
    const modulePath = keyAt(this.at, 'map', 'module');
    const relative = this.#module.startsWith('.') || isAbsolute(this.#module);
    let specifier = this.#module;
    if (relative) {
      const file = resolve(this.#baseDir, this.#module);
      const found = await stat(file).then((s) => s.isFile(), () => false);
      if (!found) throw optionError(modulePath, `Cannot load \`${modulePath}\` \`${this.#module}\`: no such file (${file})`, this.#module);
      specifier = pathToFileURL(file).href;
    }
    let loaded: Record<string, unknown>;
    try {
      loaded = (await import(specifier)) as Record<string, unknown>;
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw optionError(modulePath, `Cannot load \`${modulePath}\` \`${this.#module}\`: ${reason}`, this.#module);
    }
    const fn = loaded[this.#export];
    if (typeof fn !== 'function') {
      const exportPath = keyAt(this.at, 'map', 'export');
      const got = fn === undefined ? 'no such export' : `an export of type ${typeof fn}`;
      throw optionError(exportPath, `Expected \`${this.#module}\` to export a function \`${this.#export}\` (event) => event, got ${got}`, this.#export);
    }
    this.#inner = functionMapProcessor(fn as MapFunction, this.at, `${this.#module}#${this.#export}`);
  }
}
