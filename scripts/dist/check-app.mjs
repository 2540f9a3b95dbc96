// Checks of the unpacked Linux app (release/linux-unpacked as `npm run dist`
// would make it): the stand-in label, the executable and its fuses, and what
// app.asar holds (the Electron bundles, the UI, the packages their imports
// need) and what it must leave outside (native addons, in app.asar.unpacked).
import { spawnSync } from 'node:child_process'
import { access, constants, readdir, readFile } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { join, relative, sep } from 'node:path'
import asar from '@electron/asar'
import fuses from '@electron/fuses'
import { STAND_IN_LABEL } from './electron-stand-in.mjs'
import { expect } from './report.mjs'

/**
 * The native addons the node host loads (rolldown.electron.config.mjs keeps
 * them external), with the linux-x64 binary each one opens at run time:
 * node-datachannel from its per-platform package, classic-level through
 * node-gyp-build from prebuilds/ (the glibc build; .musl.node is Alpine's).
 */
export const NATIVE = [
  {
    pkg: 'node-datachannel',
    binary: 'node_modules/@node-datachannel/linux-x64-gnu/node_datachannel.node',
  },
  {
    pkg: 'classic-level',
    binary: 'node_modules/classic-level/prebuilds/linux-x64/classic-level.node',
  },
]

/** Packages a bundle may `require` without them being installed (ws's optional speed-ups). */
const OPTIONAL = new Set(['bufferutil', 'utf-8-validate'])
const BUILTIN = new Set([...builtinModules, 'electron'])

// @electron/fuses' FuseState (not exported from its index): the ASCII digits '1' and '0'.
const ENABLED = 0x31
const DISABLED = 0x30

const posix = (path) => path.split(sep).join('/')

async function filesUnder(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile())
    .map((e) => posix(relative(dir, join(e.parentPath, e.name))))
}

/** Every file in the archive: path (no leading slash) → its header entry. */
function asarIndex(archive) {
  const index = new Map()
  const walk = (node, prefix) => {
    for (const [name, entry] of Object.entries(node.files ?? {})) {
      const path = prefix ? `${prefix}/${name}` : name
      if (entry.files) walk(entry, path)
      else index.set(path, entry)
    }
  }
  walk(asar.getRawHeader(archive).header, '')
  return index
}

/** The package a bare specifier names: 'a/b' → 'a', '@s/a/b' → '@s/a'. */
export function packageOf(specifier) {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** Bare specifiers a bundle imports statically or through createRequire. */
export function bareImports(code) {
  const found = new Set()
  const patterns = [
    /^import\s[^;]*?from\s*"([^"]+)"/gm,
    /^import\s*"([^"]+)"/gm,
    /\b__require\("([^"]+)"\)/g,
    /\brequire\("([^"]+)"\)/g,
  ]
  for (const re of patterns) for (const m of code.matchAll(re)) found.add(m[1])
  return [...found].filter(
    (s) =>
      !s.startsWith('.') &&
      !s.startsWith('/') &&
      !s.startsWith('node:') &&
      !BUILTIN.has(packageOf(s)),
  )
}

function isX64Elf(bytes) {
  // ELF magic, then e_machine (offset 18, little-endian) 0x3e = x86-64.
  return bytes.readUInt32BE(0) === 0x7f454c46 && bytes.readUInt16LE(18) === 0x3e
}

/** The checks; `s` is pack.mjs's summary, `root` the project. */
export async function checkApp(report, s, root) {
  const dir = s.appOutDir
  const resources = join(dir, 'resources')
  const archive = join(resources, 'app.asar')
  const unpacked = join(resources, 'app.asar.unpacked')
  const exe = join(dir, s.executableName)
  const rebuild = 'run `npm run build`, then `npm run dist:check` again'

  await report.check('the package is labelled as built on the Electron stand-in', async () => {
    await access(join(dir, STAND_IN_LABEL)).catch(() => {
      expect(
        false,
        `${STAND_IN_LABEL} is missing from ${dir}`,
        'check scripts/dist/electron-stand-in.mjs',
      )
    })
    return STAND_IN_LABEL
  })

  await report.check(`the executable is ${s.executableName}`, async () => {
    await access(exe, constants.X_OK).catch(() => {
      expect(
        false,
        `${exe} is missing or not executable`,
        'check linux.executableName in electron-builder.yml',
      )
    })
    return `electron renamed, ${s.electronVersion}`
  })

  await report.check('Electron fuses are flipped as electron-builder.yml says', async () => {
    const configured = Object.entries(s.electronFuses ?? {})
    expect(
      configured.length > 0,
      'electronFuses is not set',
      'restore electronFuses in electron-builder.yml',
    )
    const wire = await fuses.getCurrentFuseWire(exe)
    const wrong = []
    for (const [key, value] of configured) {
      const index = fuses.FuseV1Options[key[0].toUpperCase() + key.slice(1)]
      expect(
        index !== undefined,
        `unknown fuse ${key}`,
        'fix the fuse name in electron-builder.yml',
      )
      const want = value ? ENABLED : DISABLED
      if (wire[index] !== want) wrong.push(key)
    }
    expect(
      wrong.length === 0,
      `not flipped: ${wrong.join(', ')}`,
      'see electronFuses in electron-builder.yml',
    )
    return `${configured.length} fuses`
  })

  let files = new Map()
  const readable = await report.check('resources/app.asar can be read', () => {
    files = asarIndex(archive)
    return `${files.size} files`
  })
  if (!readable) return

  await report.check(`app.asar's package.json "main" is ${s.main}`, () => {
    const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8'))
    expect(pkg.main === s.main, `"main" is ${pkg.main}`, 'check package.json "main"')
    expect(files.has(s.main), `${s.main} is not in app.asar`, rebuild)
    return `${pkg.name}@${pkg.version}`
  })

  const electronConfig = (await import(join(root, 'rolldown.electron.config.mjs'))).default
  const bundles = electronConfig.map((c) => posix(c.output.file))
  await report.check('app.asar holds the Electron bundles (rolldown.electron.config.mjs)', () => {
    const missing = bundles.filter((b) => !files.has(b))
    expect(missing.length === 0, `missing ${missing.join(', ')}`, rebuild)
    return bundles.map((b) => b.replace('dist/electron/', '')).join(', ')
  })

  await report.check('app.asar holds the whole UI build (dist/ui, vite.config.ts)', async () => {
    const built = (await filesUnder(join(root, 'dist', 'ui'))).filter((f) => !f.endsWith('.map'))
    const missing = built.filter((f) => !files.has(`dist/ui/${f}`))
    expect(missing.length === 0, `missing dist/ui/${missing.join(', dist/ui/')}`, rebuild)
    const html = asar.extractFile(archive, 'dist/ui/index.html').toString('utf8')
    const refs = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => `dist/ui/${m[1]}`)
    const broken = refs.filter((r) => !files.has(r))
    expect(broken.length === 0, `index.html refers to missing ${broken.join(', ')}`, rebuild)
    return `${built.length} files, ${refs.length} referenced by index.html`
  })

  await report.check(
    'app.asar holds nothing but package.json, dist/electron, dist/ui, node_modules',
    () => {
      const stray = [...files.keys()].filter(
        (f) =>
          f !== 'package.json' &&
          !f.startsWith('dist/electron/') &&
          !f.startsWith('dist/ui/') &&
          !f.startsWith('node_modules/'),
      )
      const maps = [...files.keys()].filter((f) => f.startsWith('dist/') && f.endsWith('.map'))
      const bad = [...stray, ...maps]
      expect(
        bad.length === 0,
        `unexpected ${bad.slice(0, 5).join(', ')}`,
        'check "files" in electron-builder.yml',
      )
    },
  )

  await report.check(
    "every package the Electron bundles import is in app.asar's node_modules",
    async () => {
      const missing = []
      let count = 0
      for (const bundle of bundles) {
        const code = await readFile(join(root, bundle), 'utf8')
        for (const spec of bareImports(code)) {
          const pkg = packageOf(spec)
          if (OPTIONAL.has(pkg)) continue
          count++
          if (!files.has(`node_modules/${pkg}/package.json`)) missing.push(`${pkg} (${bundle})`)
        }
      }
      expect(
        missing.length === 0,
        `missing ${missing.join(', ')}`,
        'add the package to "dependencies" in package.json (electron-builder ships only those)',
      )
      return `${count} imports`
    },
  )

  await report.check('no native addon (*.node) is packed inside app.asar', () => {
    const packed = [...files].filter(([f, e]) => f.endsWith('.node') && !e.unpacked).map(([f]) => f)
    expect(
      packed.length === 0,
      `packed: ${packed.join(', ')}`,
      'add them to asarUnpack in electron-builder.yml',
    )
  })

  for (const { pkg, binary } of NATIVE) {
    await report.check(
      `${pkg} is unpacked to app.asar.unpacked with its linux-x64 binary`,
      async () => {
        const unpack = 'add it to asarUnpack in electron-builder.yml'
        const entry = files.get(binary)
        expect(
          entry?.unpacked === true,
          `${binary} is ${entry ? 'packed' : 'not in app.asar'}`,
          unpack,
        )
        const packed = [...files].filter(
          ([f, e]) => f.startsWith(`node_modules/${pkg}/`) && !e.unpacked,
        )
        expect(packed.length === 0, `${packed.length} files of ${pkg} stay packed`, unpack)
        const bytes = await readFile(join(unpacked, binary)).catch(() => null)
        expect(bytes !== null, `${join(unpacked, binary)} is missing`, unpack)
        expect(isX64Elf(bytes), `${binary} is not an x86-64 ELF`, `reinstall ${pkg} (npm ci)`)
        // N-API addons load in Electron's Node as in ours; a broken copy would not.
        const load = spawnSync(process.execPath, [
          '-e',
          'process.dlopen({ exports: {} }, process.argv[1])',
          join(unpacked, binary),
        ])
        expect(
          load.status === 0,
          `it does not load: ${String(load.stderr).trim()}`,
          `reinstall ${pkg} (npm ci)`,
        )
        return `${binary.replace('node_modules/', '')}, loads`
      },
    )
  }
}
