// Checks of the .deb that electron-builder's deb target made (through the
// dpkg-deb stand-in for fpm): its control fields, that it installs the same
// app as the unpacked directory, and its desktop integration (the kaiwa:
// scheme handler, the icon, the /usr/bin link made by the maintainer scripts).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, constants, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { NATIVE } from './check-app.mjs'
import { STAND_IN_LABEL } from './electron-stand-in.mjs'
import { DistCheckError, expect } from './report.mjs'

/**
 * Libraries the Electron executable itself is linked against (NSS for TLS,
 * ALSA for audio, GBM for GPU buffers): without them it does not start at all,
 * so a Depends list that forgets one installs a package that cannot run.
 */
const LINKED = ['libnss3', 'libasound2', 'libgbm1']

function dpkgDeb(args) {
  const run = spawnSync('dpkg-deb', args, { encoding: 'utf8', maxBuffer: 64 << 20 })
  if (run.error || run.status !== 0) {
    throw new DistCheckError(
      `dpkg-deb ${args[0]} failed: ${run.error?.message ?? run.stderr.trim()}`,
      'install dpkg (apt-get install dpkg), or see the dpkg-deb error above',
    )
  }
  return run.stdout
}

/** Parses a control file or desktop entry: key → value (continuation lines joined). */
export function parseFields(text, separator) {
  const fields = {}
  let last
  for (const line of text.split('\n')) {
    if (/^\s/.test(line) && last) fields[last] += `\n${line.trim()}`
    else {
      const at = line.indexOf(separator)
      if (at > 0) fields[(last = line.slice(0, at).trim())] = line.slice(at + 1).trim()
    }
  }
  return fields
}

const sha256 = async (path) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex')

/** The checks; `s` is pack.mjs's summary, `workDir` a scratch directory. */
export async function checkDeb(report, s, workDir) {
  const deb = s.artifacts.find((a) => a.endsWith('.deb'))
  const found = await report.check('electron-builder made a .deb', () => {
    expect(
      deb !== undefined,
      'no .deb among the artifacts',
      'see the electron-builder output above',
    )
    return deb.slice(deb.lastIndexOf('/') + 1)
  })
  if (!found) return

  const control = parseFields(dpkgDeb(['--field', deb]), ':')
  const opt = `opt/${s.sanitizedProductName}`
  const metadata = 'add "homepage" and "author": {"name", "email"} to package.json'

  await report.check('control: Package, Version, Architecture', () => {
    const want = { Package: s.packageName, Version: s.version, Architecture: 'amd64' }
    for (const [key, value] of Object.entries(want)) {
      expect(
        control[key] === value,
        `${key} is ${control[key]}, not ${value}`,
        'check package.json',
      )
    }
    return `${control.Package} ${control.Version} ${control.Architecture}`
  })

  await report.check('control: Maintainer (with an email) and Homepage', () => {
    expect(
      /^[^<>]+ <[^@\s<>]+@[^\s<>]+>$/.test(control.Maintainer ?? ''),
      'no Maintainer',
      metadata,
    )
    expect(/^https?:\/\//.test(control.Homepage ?? ''), 'no Homepage', metadata)
    return control.Maintainer
  })

  await report.check('control: Depends is the list electron-builder.yml gives', () => {
    const configured = s.deb.depends
    expect(
      Array.isArray(configured) && configured.length > 0,
      'deb.depends is not set, so the package gets electron-builder’s generic list',
      'list the libraries Electron needs under deb.depends in electron-builder.yml',
    )
    const actual = (control.Depends ?? '').split(',').map((d) => d.trim())
    const missing = configured.filter((d) => !actual.includes(d))
    const extra = actual.filter((d) => !configured.includes(d))
    expect(
      missing.length + extra.length === 0,
      `missing ${missing}; extra ${extra}`,
      'see deb.depends',
    )
    return `${actual.length} packages`
  })

  await report.check(
    `control: Depends has what Electron links directly (${LINKED.join(', ')})`,
    () => {
      const actual = (control.Depends ?? '').split(',').map((d) => d.trim().split(/[\s(]/)[0])
      const missing = LINKED.filter((lib) => !actual.includes(lib))
      expect(missing.length === 0, `missing ${missing.join(', ')}`, 'add them to deb.depends')
    },
  )

  await report.check('control: Description starts with the synopsis', () => {
    const synopsis = (control.Description ?? '').split('\n')[0]
    expect(synopsis === s.deb.synopsis, `synopsis is "${synopsis}"`, 'see linux.synopsis')
  })

  const root = await mkdtemp(join(workDir, 'deb-'))
  try {
    dpkgDeb(['--extract', deb, root])
    const exe = join(root, opt, s.executableName)

    await report.check(
      `it installs the app in /${opt}, the same app.asar as the unpacked app`,
      async () => {
        await access(exe, constants.X_OK).catch(() => {
          expect(
            false,
            `/${opt}/${s.executableName} is missing or not executable`,
            'see linux.executableName',
          )
        })
        await access(join(root, opt, STAND_IN_LABEL)).catch(() => {
          expect(false, `${STAND_IN_LABEL} is missing`, 'check scripts/dist/electron-stand-in.mjs')
        })
        const asar = 'resources/app.asar'
        const same =
          (await sha256(join(root, opt, asar))) === (await sha256(join(s.appOutDir, asar)))
        expect(same, `${asar} differs from the unpacked app's`, 'see scripts/dist/fpm-deb.mjs')
        for (const { binary } of NATIVE) {
          const path = join(root, opt, 'resources/app.asar.unpacked', binary)
          await access(path).catch(() => {
            expect(false, `${binary} is not unpacked`, 'see asarUnpack in electron-builder.yml')
          })
        }
        return `${s.executableName}, app.asar, ${NATIVE.length} native addons`
      },
    )

    await report.check('its desktop entry handles kaiwa: links (MimeType), once each', async () => {
      const file = join(root, 'usr/share/applications', `${s.executableName}.desktop`)
      const entry = parseFields(await readFile(file, 'utf8').catch(() => ''), '=')
      expect(
        entry.Exec === `/${opt}/${s.executableName} %U`,
        `Exec is ${entry.Exec}`,
        'see linux.executableArgs',
      )
      const types = (entry.MimeType ?? '').split(';').filter(Boolean)
      const schemes = s.protocols.flatMap((p) => p.schemes).map((x) => `x-scheme-handler/${x}`)
      for (const type of schemes) {
        const n = types.filter((t) => t === type).length
        expect(n === 1, `MimeType lists ${type} ${n} times`, 'declare it once, under protocols')
      }
      if (s.desktopName) {
        const wmClass = s.desktopName.replace(/\.desktop$/, '')
        expect(
          entry.StartupWMClass === wmClass,
          `StartupWMClass is ${entry.StartupWMClass}`,
          'see desktopName',
        )
      }
      return `MimeType=${entry.MimeType}`
    })

    await report.check('its icon is installed under the desktop entry’s Icon name', async () => {
      const hicolor = join(root, 'usr/share/icons/hicolor')
      const sizes = await readdir(hicolor).catch(() => [])
      const icons = sizes.filter((size) => size !== 'scalable')
      expect(
        icons.length > 0,
        'no icons in /usr/share/icons/hicolor',
        'see "icon" in electron-builder.yml',
      )
      for (const size of icons) await access(join(hicolor, size, 'apps', `${s.executableName}.png`))
      return icons.join(', ')
    })

    await report.check(`its maintainer scripts link /usr/bin/${s.executableName}`, () => {
      const postinst = dpkgDeb(['--info', deb, 'postinst'])
      const postrm = dpkgDeb(['--info', deb, 'postrm'])
      const target = `/${opt}/${s.executableName}`
      expect(
        postinst.includes(target),
        `postinst does not link ${target}`,
        'see linux.executableName',
      )
      expect(
        postrm.includes(`'${s.executableName}'`),
        'postrm does not remove the link',
        'see deb.afterRemove',
      )
    })
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}
