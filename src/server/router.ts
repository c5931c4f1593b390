import { InvalidOptionError } from '../errors.js';
import { HttpError } from './http-error.js';
import type { RequestContext } from './respond.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Handles one matched request: answers through `ctx` (or writes to `ctx.res`), or throws. */
export type RouteHandler = (ctx: RequestContext) => void | Promise<void>;

/**
 * One route of the server. Paths are matched segment by segment: `:name` takes one segment
 * (percent-decoded, in `ctx.params.name`), a final `*` the rest of the path (in `ctx.params['*']`,
 * for static files).
 * @example { method: 'GET', path: '/metrics', handler: (ctx) => ctx.text(200, render()) }
 */
export interface Route {
  method: HttpMethod;
  path: string;
  /** Answered without the bearer token even when one is set (health checks). @default false */
  public?: boolean;
  handler: RouteHandler;
}

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  /** The path exists, with other methods: a 405 with `Allow`. */
  | { kind: 'method'; allow: string[] }
  | { kind: 'none' };

interface Compiled {
  route: Route;
  segments: string[];
  rest: boolean;
}

/** Method and path to route. A GET route also answers HEAD (Node sends the headers only). */
export class Router {
  readonly #routes: Compiled[] = [];

  add(route: Route): this {
    if (!route.path.startsWith('/')) throw new InvalidOptionError('route.path', route.path, 'a path starting with /');
    const segments = split(route.path);
    const rest = segments[segments.length - 1] === '*';
    if (rest) segments.pop();
    if (segments.includes('*')) throw new InvalidOptionError('route.path', route.path, 'a path with `*` only as its last segment');
    const clash = this.#routes.find((r) => r.route.method === route.method && r.route.path === route.path);
    if (clash) throw new InvalidOptionError('route', `${route.method} ${route.path}`, 'a method and path not already routed');
    this.#routes.push({ route, segments, rest });
    return this;
  }

  /** The route for a request; `pathname` as sent (still percent-encoded). */
  match(method: string, pathname: string): RouteMatch {
    const parts = split(pathname);
    const allow = new Set<string>();
    for (const compiled of this.#routes) {
      const params = matchPath(compiled, parts);
      if (params === undefined) continue;
      const { method: routeMethod } = compiled.route;
      if (routeMethod === method || (method === 'HEAD' && routeMethod === 'GET')) return { kind: 'found', route: compiled.route, params };
      allow.add(routeMethod);
      if (routeMethod === 'GET') allow.add('HEAD');
    }
    return allow.size === 0 ? { kind: 'none' } : { kind: 'method', allow: [...allow] };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((segment) => segment.length > 0);
}

/** Params when the path matches; a parameter that is not valid percent-encoding is a 400. */
function matchPath(compiled: Compiled, parts: string[]): Record<string, string> | undefined {
  const { segments, rest } = compiled;
  if (rest ? parts.length < segments.length : parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const pattern = segments[i] as string;
    const part = parts[i] as string;
    if (pattern.startsWith(':')) {
      params[pattern.slice(1)] = decode(part);
    } else if (pattern !== part) return undefined;
  }
  if (rest) {
    params['*'] = decode(parts.slice(segments.length).join('/'));
  }
  return params;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, 'ERR_INVALID_PATH', `Expected valid percent-encoding in the path, got \`${part}\``);
  }
}
