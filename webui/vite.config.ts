import { defineConfig } from 'vite';

// Output directory: the CMake build passes AWNODE_WEBUI_OUT (build/webui, which is also
// CMake's binary directory for webui/, so it must not be emptied: CMake removes the old
// assets/ itself); a plain `npm run build` writes (and empties) dist/.
const outDir = process.env.AWNODE_WEBUI_OUT || 'dist';

export default defineConfig({
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir,
    emptyOutDir: !process.env.AWNODE_WEBUI_OUT,
    target: 'es2020',
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: false,
    rollupOptions: {
      output: {
        manualChunks: (id) => (id.includes('node_modules/echarts') || id.includes('node_modules/zrender') ? 'charts' : undefined),
      },
    },
  },
  server: {
    proxy: { '/api': process.env.AW_URL || 'http://127.0.0.1:5600' },
  },
});
