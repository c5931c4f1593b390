import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { HttpError } from './http-error.js';
import type { RequestContext } from './respond.js';
import type { Route } from './router.js';

/**
 * The dashboard's static files: `GET /` (the page) and `GET /dashboard/:file` (its script, its
 * styles and uPlot's). Plain files, no build step: the page is `src/server/dashboard/`, copied
 * beside the compiled server; uPlot comes from its npm package. Nothing is loaded from another
 * origin, and the Content-Security-Policy says so.
 *
 * These routes are public even when the server has a token: they hold no data. The page asks for
 * the token and sends it with every API request.
 */

/** Everything from this server only; no inline script or style, no framing. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  path: string;
  type: string;
}

interface LoadedAsset {
  body: Buffer;
  type: string;
  etag: string;
}

const require = createRequire(import.meta.url);
const own = (name: string) => fileURLToPath(new URL(`./dashboard/${name}`, import.meta.url));

const PAGE: Asset = { path: own('index.html'), type: 'text/html; charset=utf-8' };

const ASSETS: Readonly<Record<string, Asset>> = {
  'app.js': { path: own('app.js'), type: 'text/javascript; charset=utf-8' },
  'style.css': { path: own('style.css'), type: 'text/css; charset=utf-8' },
  'uplot.js': { path: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** The page and its assets. Files are read once, on first request, and kept in memory (about 100 KB). */
export function dashboardRoutes(): Route[] {
  const loaded = new Map<Asset, Promise<LoadedAsset>>();
  const load = (asset: Asset): Promise<LoadedAsset> => {
    let file = loaded.get(asset);
    if (file === undefined) {
      file = readFile(asset.path).then((body) => ({ body, type: asset.type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }));
      // A failed read (files missing from an incomplete build) is tried again on the next request.
      file.catch(() => loaded.delete(asset));
      loaded.set(asset, file);
    }
    return file;
  };
  return [
    { method: 'GET', path: '/', public: true, handler: async (ctx) => serve(ctx, await load(PAGE)) },
    {
      method: 'GET',
      path: '/dashboard/:file',
      public: true,
      handler: async (ctx) => {
        const name = ctx.params.file as string;
        const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
        if (asset === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', `No dashboard file ${name}: expected one of ${Object.keys(ASSETS).join(', ')}`);
        serve(ctx, await load(asset));
      },
    },
  ];
}

/**
 * Answers with a file. `Cache-Control: no-cache` with an ETag: the browser keeps its copy and
 * asks each time whether it is still good (a 304 without body when it is), so an upgraded server
 * is never shown with a stale script.
 */
function serve(ctx: RequestContext, file: LoadedAsset): void {
  const headers = {
    'Cache-Control': 'no-cache',
    ETag: file.etag,
    'Content-Security-Policy': DASHBOARD_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  };
  const match = ctx.req.headers['if-none-match'];
  if (match !== undefined && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
    ctx.res.writeHead(304, headers);
    ctx.res.end();
    return;
  }
  ctx.send(200, file.body, { ...headers, 'Content-Type': file.type });
}
