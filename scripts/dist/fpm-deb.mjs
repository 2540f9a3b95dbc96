#!/usr/bin/env node
// A stand-in for fpm that builds `-s dir -t deb` packages with Debian's own
// dpkg-deb. electron-builder's deb target (app-builder-lib 26,
// out/targets/FpmTarget.js) computes everything that goes into the package
// (the unpacked app under /opt, icons, the desktop entry with its MimeType,
// the maintainer scripts, Depends) and hands it to fpm, which it downloads
// from GitHub unless CUSTOM_FPM_PATH names another executable.
// `npm run dist:check` points CUSTOM_FPM_PATH here, so the whole deb target
// runs as in a release, offline, and only the final archiving differs.
//
// Only the options FpmTarget passes are understood; anything else exits 2
// naming the option, so a new electron-builder that calls fpm differently
// fails the check instead of producing a subtly different package.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, cp, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'

export class FpmStandInError extends Error {
  static name = 'FpmStandInError'
  constructor(message) {
    super(`fpm stand-in (scripts/dist/fpm-deb.mjs): ${message}`)
    this.name = FpmStandInError.name
  }
}

/** fpm options taking a value, mapped to the field they fill. */
const VALUED = {
  '-s': 'source',
  '-t': 'target',
  '-d': 'depends',
  '--deb-recommends': 'recommends',
  '--deb-compression': 'compression',
  '--deb-priority': 'priority',
  '--architecture': 'architecture',
  '--after-install': 'afterInstall',
  '--after-remove': 'afterRemove',
  '--description': 'description',
  '--version': 'version',
  '--iteration': 'iteration',
  '--package': 'package',
  '--name': 'name',
  '--maintainer': 'maintainer',
  '--vendor': 'vendor',
  '--url': 'url',
  '--category': 'category',
  '--license': 'license',
  '--log': 'log',
}
const REPEATED = new Set(['depends', 'recommends'])
const FLAGS = new Set(['--force', '--debug'])

/** Parses FpmTarget's argument list; throws FpmStandInError on anything else. */
export function parseFpmArgs(argv) {
  const o = { depends: [], recommends: [], mappings: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (FLAGS.has(arg)) continue
    const field = VALUED[arg]
    if (field !== undefined) {
      const value = argv[++i]
      if (value === undefined) throw new FpmStandInError(`${arg} needs a value`)
      if (REPEATED.has(field)) o[field].push(value)
      else o[field] = value
    } else if (arg.startsWith('-')) {
      throw new FpmStandInError(`unsupported option ${arg}; extend this stand-in to handle it`)
    } else {
      const at = arg.indexOf('=')
      if (at <= 0) throw new FpmStandInError(`expected SOURCE=DEST, got ${arg}`)
      o.mappings.push({ from: arg.slice(0, at), to: arg.slice(at + 1) })
    }
  }
  if (o.source !== 'dir' || o.target !== 'deb') {
    throw new FpmStandInError(`only -s dir -t deb is supported (got -s ${o.source} -t ${o.target})`)
  }
  for (const key of ['package', 'name', 'version', 'architecture', 'maintainer', 'description']) {
    if (o[key] === undefined) throw new FpmStandInError(`missing --${key}`)
  }
  return o
}

/**
 * Debian policy §5.6.13: the first line is the synopsis, every further line is
 * indented by one space, and an empty line is written as " .".
 */
export function debianDescription(text) {
  const [synopsis, ...rest] = text.split('\n')
  const body = rest.map((line) => (line.trim() === '' ? ' .' : ` ${line.trim()}`))
  return [synopsis.trim(), ...body].join('\n')
}

/** The control file (Debian policy §5.3), with the fields fpm writes. */
export function controlFile(o, installedSizeKiB) {
  const version = o.iteration ? `${o.version}-${o.iteration}` : o.version
  const fields = [
    ['Package', o.name],
    ['Version', version],
    ['License', o.license],
    ['Vendor', o.vendor],
    ['Architecture', o.architecture],
    ['Maintainer', o.maintainer],
    ['Installed-Size', String(installedSizeKiB)],
    ['Depends', o.depends.join(', ') || undefined],
    ['Recommends', o.recommends.join(', ') || undefined],
    ['Section', o.category],
    ['Priority', o.priority],
    ['Homepage', o.url],
    ['Description', debianDescription(o.description)],
  ]
  return fields
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n')
    .concat('\n')
}

async function place(root, { from, to }) {
  const dest = join(root, to.endsWith('/') ? join(to, basename(from)) : to)
  const info = await stat(from).catch(() => {
    throw new FpmStandInError(`${from} does not exist`)
  })
  await mkdir(info.isDirectory() ? dest : dirname(dest), { recursive: true })
  // Symlinks are kept as they are (Electron releases contain none at the top,
  // but node_modules can); modes are preserved by fs.cp.
  await cp(from, dest, { recursive: true, verbatimSymlinks: true })
}

/** Walks `dir`, returning [relativePath, lstat] for everything under it. */
async function walk(dir, base = dir) {
  const out = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    out.push([relative(base, path), await lstat(path)])
    if (entry.isDirectory()) out.push(...(await walk(path, base)))
  }
  return out
}

/**
 * dpkg-deb's -Z/-z for fpm's --deb-compression (electron-builder passes xz).
 * KAIWA_FPM_DEB_COMPRESSION=TYPE[:LEVEL] overrides it: npm run dist:check uses
 * gzip:1, because xz costs half a minute of CPU and the check reads what is in
 * the package, not how it is compressed.
 */
export function compressionArgs(requested, override = process.env.KAIWA_FPM_DEB_COMPRESSION) {
  const [type, level] = override ? override.split(':') : [requested ?? 'xz']
  const z = type === 'gz' ? 'gzip' : type
  // dpkg-deb cannot write bzip2 any more; fpm's other choices map one to one.
  if (!['xz', 'gzip', 'zstd', 'none'].includes(z)) {
    throw new FpmStandInError(`unsupported compression ${type}`)
  }
  return [`-Z${z}`, ...(level ? [`-z${level}`] : [])]
}

/** Builds the package `o` describes; returns its path. */
export async function buildDeb(o) {
  const root = `${o.package}.root`
  await rm(root, { recursive: true, force: true })
  try {
    for (const mapping of o.mappings) await place(root, mapping)
    const entries = await walk(root)
    const files = entries.filter(([, s]) => s.isFile())
    // Installed-Size: KiB, rounded up per file, one per directory or link (policy §5.6.20).
    const kib = entries.reduce((n, [, s]) => n + (s.isFile() ? Math.ceil(s.size / 1024) : 1), 0)
    const debian = join(root, 'DEBIAN')
    await mkdir(debian, { mode: 0o755 })
    await writeFile(join(debian, 'control'), controlFile(o, kib))
    const sums = []
    for (const [path] of files) {
      const digest = createHash('md5')
        .update(await readFile(join(root, path)))
        .digest('hex')
      sums.push(`${digest}  ${path}\n`)
    }
    await writeFile(join(debian, 'md5sums'), sums.join(''))
    for (const [file, script] of [
      [o.afterInstall, 'postinst'],
      [o.afterRemove, 'postrm'],
    ]) {
      if (file === undefined) continue
      await writeFile(join(debian, script), await readFile(file))
      await chmod(join(debian, script), 0o755)
    }
    await rm(o.package, { force: true })
    const args = ['--root-owner-group', ...compressionArgs(o.compression)]
    const run = spawnSync('dpkg-deb', [...args, '--build', root, o.package], {
      encoding: 'utf8',
    })
    if (run.error) throw new FpmStandInError(`cannot run dpkg-deb: ${run.error.message}`)
    if (run.status !== 0) {
      throw new FpmStandInError(`dpkg-deb failed (${run.status}): ${run.stderr.trim()}`)
    }
    return o.package
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const built = await buildDeb(parseFpmArgs(process.argv.slice(2)))
    console.log(`Created package {:path=>"${built}"}`)
  } catch (error) {
    console.error(error instanceof FpmStandInError ? error.message : error)
    process.exit(2)
  }
}
