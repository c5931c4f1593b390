// Copies non-TypeScript runtime files (Lua scripts, dashboard assets) from src/ to dist/src/.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ASSET = /\.(lua)$/;
// The dashboard's page, script and styles are served as they are: no build step.
const DASHBOARD = join('src', 'server', 'dashboard');
const DASHBOARD_ASSET = /\.(html|js|css)$/;
function copy(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copy(path);
    else if (ASSET.test(name) || (dir === DASHBOARD && DASHBOARD_ASSET.test(name))) cpSync(path, join('dist', relative('.', path)));
  }
}
copy('src');
