#!/usr/bin/env node
// The CLI is compiled TypeScript; `npm install` / `npm ci` builds it (the `prepare` script).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv);
