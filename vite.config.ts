import { defineConfig } from 'vite'
import type { Plugin } from 'vite'
import react from '@vitejs/plugin-react'

/**
 * The built page carries its own CSP (the node also sends one as a header):
 * Electron loads the bundle from disk, where no server sets headers. Only in
 * the build: the dev server needs inline scripts for hot reload.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "font-src 'self'",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ')

function cspMeta(): Plugin {
  return {
    name: 'kaiwa-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP },
        injectTo: 'head',
      },
    ],
  }
}

/**
 * `npm run dev:ui` with KAIWA_API=http://127.0.0.1:PORT (a running `kaiwa node`)
 * proxies the API to it. The node refuses foreign origins (DNS-rebinding
 * protection), so the proxy presents the node's own origin.
 */
const api = process.env.KAIWA_API
const proxy =
  api == null
    ? undefined
    : {
        '/api': {
          target: api,
          ws: true,
          changeOrigin: true,
          configure: (p: {
            on(event: string, cb: (req: { setHeader(k: string, v: string): void }) => void): void
          }) => {
            const fix = (req: { setHeader(k: string, v: string): void }): void =>
              req.setHeader('origin', api)
            p.on('proxyReq', fix)
            p.on('proxyReqWs', fix)
          },
        },
      }

// The renderer bundle: served by `kaiwa node --ui` and loaded by Electron's window.
export default defineConfig({
  root: 'src/renderer',
  base: './',
  plugins: [react(), cspMeta()],
  // One chunk of ~650 kB (React, sip.js, zod) is fine: it loads from loopback or from disk.
  build: {
    outDir: '../../dist/ui',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: { strictPort: false, ...(proxy ? { proxy } : {}) },
})
