#!/usr/bin/env node
// `npm start`: runs the desktop app (dist/electron/main.mjs, through package.json
// "main") with the project's Electron. The electron package fetches its binary
// on first use; where that cannot happen (no network, as on the build machine)
// this says what is missing and points to the headless web mode instead.
// It finds the binary the way the package's index.js does, but runs the
// package's installer itself, so a failed download ends in one clear message
// rather than a stack trace from inside `require('electron')`.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const MAIN = join(ROOT, 'dist', 'electron', 'main.mjs')
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000

function electronPackageDir() {
  try {
    return dirname(createRequire(import.meta.url).resolve('electron/package.json'))
  } catch {
    return undefined
  }
}

/** `{bin}` when the executable is there, else `{missing}` saying why not. */
function locate(pkgDir) {
  const pathFile = join(pkgDir, 'path.txt')
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : ''
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH
  if (override) {
    const bin = join(override, name || 'electron')
    return existsSync(bin)
      ? { bin }
      : { missing: `${bin} (ELECTRON_OVERRIDE_DIST_PATH) does not exist` }
  }
  if (!name) return { missing: `it was never downloaded: there is no ${pathFile}` }
  const bin = join(pkgDir, 'dist', name)
  return existsSync(bin) ? { bin } : { missing: `${bin} does not exist` }
}

/** What the package's index.js would do on first require: run its installer (a download). */
function download(pkgDir) {
  process.stderr.write('kaiwa: downloading the Electron binary (first run)…\n')
  const r = spawnSync(process.execPath, [join(pkgDir, 'install.js')], {
    encoding: 'utf8',
    timeout: DOWNLOAD_TIMEOUT_MS,
  })
  if (r.status === 0) return undefined
  const lines = `${r.stderr ?? ''}\n${r.error?.message ?? ''}`.split('\n').map((l) => l.trim())
  return (
    lines.find((l) => /error/i.test(l) && !l.startsWith('at ')) ?? lines.find((l) => l) ?? 'failed'
  )
}

function findElectron() {
  const pkgDir = electronPackageDir()
  if (pkgDir === undefined) return { missing: 'the electron npm package is not installed' }
  const found = locate(pkgDir)
  if (found.bin || process.env.ELECTRON_OVERRIDE_DIST_PATH) return found
  const failure = download(pkgDir)
  const again = locate(pkgDir)
  if (again.bin) return again
  return { missing: `${found.missing}, and downloading it failed: ${failure ?? again.missing}` }
}

const electron = findElectron()
if (electron.missing) {
  process.stderr.write(
    `kaiwa: cannot start the desktop app: the Electron binary is missing.\n` +
      `  ${electron.missing}\n\n` +
      'The electron npm package is installed for its TypeScript types; the binary itself comes\n' +
      'from GitHub on first use, and this machine cannot download it. Run Kaiwa in a browser\n' +
      'instead (headless web mode):\n\n' +
      '  npm run build && npx kaiwa node --ui\n\n' +
      'and open the "ui" address it prints.\n',
  )
  process.exit(1)
}
if (!existsSync(MAIN)) {
  process.stderr.write('kaiwa: the desktop app is not built yet: run `npm run build` first.\n')
  process.exit(1)
}

// ELECTRON_RUN_AS_NODE left in the environment would start a plain Node instead of the app.
const env = { ...process.env }
delete env.ELECTRON_RUN_AS_NODE
const child = spawn(electron.bin, [ROOT, ...process.argv.slice(2)], { stdio: 'inherit', env })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('error', (err) => {
  process.stderr.write(`kaiwa: cannot run ${electron.bin}: ${err.message}\n`)
  process.exit(1)
})
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
