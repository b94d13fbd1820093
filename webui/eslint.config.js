// ESLint (flat config) for the web UI's sources: typescript-eslint's recommended rules,
// and above all no explicit `any` (the server's JSON has types in src/lib/types.ts).
// Run by `npm run lint` and, after tsc, by `npm run check` (which the test run uses).
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**'] },
  {
    files: ['src/**/*.{ts,tsx}'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
);
