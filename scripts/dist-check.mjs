#!/usr/bin/env node
// `npm run dist:check`: packages the desktop app for Linux the way
// `npm run dist` does (electron-builder.yml: the unpacked app and a .deb) and
// checks what came out, without downloading anything. Electron's binary cannot
// be fetched where this runs, so electron-builder gets a clearly labelled
// stand-in as `electronDist` (scripts/dist/electron-stand-in.mjs); fpm, which
// its deb target would download, is replaced by dpkg-deb
// (scripts/dist/fpm-deb.mjs, through CUSTOM_FPM_PATH). electron-builder runs in
// an empty network namespace when the system allows one, and always with a
// guard that fails on any connection (scripts/dist/no-network.mjs).
//
// Usage: npm run dist:check [-- --no-build]   (--no-build reuses dist/)
// Output: dist-pack/ (the unpacked app, the .deb, electron-builder.log).
// Exits 1 if anything failed, printing what to do next.
import { spawnSync } from 'node:child_process'
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { checkApp } from './dist/check-app.mjs'
import { checkDeb } from './dist/check-deb.mjs'
import { createElectronStandIn } from './dist/electron-stand-in.mjs'
import { DistCheckError, expect, Report } from './dist/report.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'dist-pack')
const HERE = join(ROOT, 'scripts', 'dist')
const FPM = join(HERE, 'fpm-deb.mjs')
const LOG = join(OUT, 'electron-builder.log')
const NET_LOG = join(OUT, 'network-attempts.log')
const SUMMARY = join(OUT, 'pack-summary.json')

const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`

/** Errors electron-builder is known to print, and what to do about each. */
const KNOWN_FAILURES = [
  [/specify project homepage/, 'add "homepage" to package.json (the .deb\'s Homepage field)'],
  [/author 'email'/, 'add "author": {"name", "email"} to package.json (the .deb\'s Maintainer)'],
  [/NetworkBlockedError/, 'something tried to download: see the NetworkBlockedError above'],
  [/Application entry file/, 'run `npm run build` first (package.json "main" is missing)'],
]

/** How to cut electron-builder off the network: an empty network namespace if allowed. */
function isolation() {
  for (const args of [['--net'], ['--map-root-user', '--net']]) {
    const probe = spawnSync('unshare', [...args, 'true'], { stdio: 'ignore' })
    if (probe.status === 0) return { prefix: ['unshare', ...args], how: 'empty network namespace' }
  }
  return { prefix: [], how: 'in-process guard only: unshare is not allowed here' }
}

async function build(report, skip) {
  if (skip) {
    return report.check('build: reusing dist/ (--no-build)', async () => {
      await stat(join(ROOT, 'dist', 'electron', 'main.mjs')).catch(() => {
        expect(false, 'dist/electron/main.mjs is missing', 'run without --no-build')
      })
    })
  }
  const since = performance.now()
  return report.check('build: npm run build', () => {
    const run = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
    expect(run.status === 0, `npm run build exited ${run.status}`, 'fix the build errors above')
    return seconds(since)
  })
}

async function pack(report) {
  const since = performance.now()
  const net = isolation()
  return report.check(`electron-builder --linux dir deb, offline (${net.how})`, async () => {
    const electron = JSON.parse(await readFile(join(ROOT, 'node_modules/electron/package.json')))
    const standIn = await createElectronStandIn(join(OUT, 'electron-stand-in'), electron.version)
    await chmod(FPM, 0o755)
    await writeFile(NET_LOG, '')
    const env = {
      ...process.env,
      CUSTOM_FPM_PATH: FPM,
      KAIWA_DIST_NET_LOG: NET_LOG,
      // A fresh cache: nothing downloaded on another run may stand in for a download.
      ELECTRON_BUILDER_CACHE: join(OUT, 'cache'),
      ELECTRON_BUILDER_OFFLINE: 'true',
      ELECTRON_SKIP_BINARY_DOWNLOAD: '1',
      CSC_IDENTITY_AUTO_DISCOVERY: 'false',
      KAIWA_FPM_DEB_COMPRESSION: 'gzip:1',
    }
    const command = [
      ...net.prefix,
      process.execPath,
      '--import',
      pathToFileURL(join(HERE, 'no-network.mjs')).href,
      join(HERE, 'pack.mjs'),
      OUT,
      standIn,
      SUMMARY,
    ]
    const run = spawnSync(command[0], command.slice(1), {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    })
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`
    await writeFile(LOG, output)
    const attempts = (await readFile(NET_LOG, 'utf8')).trim()
    expect(
      attempts === '',
      `it tried the network: ${attempts.split('\n')[0]}`,
      `see ${NET_LOG}, and give electron-builder a local input instead`,
    )
    if (run.status !== 0) {
      const tail = output.trim().split('\n').slice(-25).join('\n')
      console.log(tail.replace(/^/gm, '        | '))
      const known = KNOWN_FAILURES.filter(([re]) => re.test(output)).map(([, fix]) => fix)
      throw new DistCheckError(
        `electron-builder exited ${run.status ?? run.signal ?? run.error?.message} (log: ${LOG})`,
        known.length > 0 ? known.join('; ') : 'read the electron-builder output above',
      )
    }
    return seconds(since)
  })
}

async function main() {
  const started = performance.now()
  const args = process.argv.slice(2)
  const unknown = args.filter((a) => a !== '--no-build')
  if (unknown.length > 0) {
    console.error(
      `dist:check: unknown argument ${unknown[0]} (usage: npm run dist:check [-- --no-build])`,
    )
    process.exit(2)
  }
  console.log('dist:check: Linux packaging with a STAND-IN Electron (not a release), offline')
  const report = new Report()
  await rm(OUT, { recursive: true, force: true })
  await mkdir(OUT, { recursive: true })

  if ((await build(report, args.includes('--no-build'))) && (await pack(report))) {
    const summary = JSON.parse(await readFile(SUMMARY, 'utf8'))
    await checkApp(report, summary, ROOT)
    await checkDeb(report, summary, OUT)
  }

  const total = report.passed + report.failures.length
  if (report.ok) {
    console.log(
      `dist:check: all ${total} checks passed in ${seconds(started)}; output in dist-pack/`,
    )
    return
  }
  console.log(
    `dist:check: FAILED ${report.failures.length} of ${total} checks (${seconds(started)}). ` +
      'Fix the first failure above ("next:" says how), then run `npm run dist:check` again.',
  )
  process.exitCode = 1
}

await main()
