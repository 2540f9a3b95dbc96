import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// The renderer bundle: served by `kaiwa node --ui` and loaded by Electron's window.
export default defineConfig({
  root: 'src/renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../../dist/ui', emptyOutDir: true, sourcemap: true },
})
