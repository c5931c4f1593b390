// Copies non-TypeScript runtime files (Lua scripts, dashboard assets) from src/ to dist/src/.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ASSET = /\.(lua)$/;
function copy(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copy(path);
    else if (ASSET.test(name)) cpSync(path, join('dist', relative('.', path)));
  }
}
copy('src');
