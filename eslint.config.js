import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What the dashboard's browser script may use (listed: the `globals` package is not a dependency). */
const BROWSER_GLOBALS = Object.fromEntries(
  [
    'window', 'document', 'location', 'history', 'navigator', 'sessionStorage', 'fetch', 'Headers', 'Response', 'URL', 'URLSearchParams',
    'AbortController', 'TextDecoder', 'TextDecoderStream', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval',
    'requestAnimationFrame', 'cancelAnimationFrame', 'console', 'HTMLElement', 'Event',
    // uPlot's script is loaded before the dashboard's.
    'uPlot',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.sluice/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ignores: ['src/server/dashboard/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The dashboard's script runs in the browser (a plain ES module); uPlot is loaded before it.
    files: ['src/server/dashboard/**/*.js'],
    languageOptions: { sourceType: 'module', globals: BROWSER_GLOBALS },
  },
);
