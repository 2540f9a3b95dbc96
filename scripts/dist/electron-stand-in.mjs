// A STAND-IN for an unpacked Electron release, passed to electron-builder as
// `electronDist` by `npm run dist:check`. Electron's binary cannot be
// downloaded where the check runs, and the check is about our packaging
// (files, asar, unpacked addons, fuses, the .deb), not about Electron. Nothing
// built from it is a release: the "executable" is a shell script that says so.
//
// What electron-builder's Linux target needs from the directory (read from
// app-builder-lib 26, out/electron/ElectronFramework.js and platformPackager.js):
// - `electron`: renamed to linux.executableName (beforeCopyExtraFiles), then
//   @electron/fuses flips the fuse wire inside it (addElectronFuses), which
//   needs the sentinel below followed by a version-1 wire;
// - `resources/`: app.asar and app.asar.unpacked are written into it;
// - `LICENSE`: moved to LICENSE.electron.txt (retainElectronLicenseFiles);
// - `chrome-sandbox`: the .deb's after-install script chmods it (4755 where
//   user namespaces are unavailable);
// - `locales/*.pak`: only read when electronLanguages is set (it is not).
// Everything else in a real release (libffmpeg.so, *.pak, icudtl.dat, V8
// snapshots) is copied verbatim and not inspected, so it is left out.
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The marker @electron/fuses looks for (its dist/constants.js, SENTINEL). */
export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'

/**
 * Electron's own default fuse states, in wire order (FuseV1Options 0..7:
 * RunAsNode, EnableCookieEncryption, EnableNodeOptionsEnvironmentVariable,
 * EnableNodeCliInspectArguments, EnableEmbeddedAsarIntegrityValidation,
 * OnlyLoadAppFromAsar, LoadBrowserProcessSpecificV8Snapshot,
 * GrantFileProtocolExtraPrivileges). '1' enabled, '0' disabled, as in the
 * binary. Starting from the defaults means a fuse electron-builder.yml forgets
 * to set keeps Electron's value, as it would in a real build.
 */
export const DEFAULT_FUSE_WIRE = '10011001'

/** The file at the root of the stand-in (and so of every package built from it). */
export const STAND_IN_LABEL = 'STAND-IN-ELECTRON.txt'

const LABEL_TEXT = `This directory was packaged with a STAND-IN for Electron, by npm run dist:check
(scripts/dist/electron-stand-in.mjs). It contains no Electron binary and cannot run.
It exists only to check Kaiwa's packaging offline. Never ship or publish it:
build release artifacts with npm run dist on a machine that can download Electron.
`

function executable(version) {
  // The fuse wire sits in a comment: version byte 1, then the wire length, then
  // one byte per fuse, exactly as @electron/fuses parses it.
  const wire = `${FUSE_SENTINEL}\x01${String.fromCharCode(DEFAULT_FUSE_WIRE.length)}${DEFAULT_FUSE_WIRE}`
  return `#!/bin/sh
# STAND-IN for the Electron ${version} executable (kaiwa npm run dist:check).
echo "This is not Electron: it is the stand-in that npm run dist:check packages with." >&2
echo "Build a real package with npm run dist on a machine that can download Electron." >&2
exit 1
# fuse wire for @electron/fuses: ${wire}
`
}

/**
 * Writes the stand-in to `dir` (emptied first) for Electron `version`.
 * @returns {Promise<string>} dir
 */
export async function createElectronStandIn(dir, version) {
  await rm(dir, { recursive: true, force: true })
  await mkdir(join(dir, 'resources'), { recursive: true })
  await writeFile(join(dir, 'electron'), executable(version), { encoding: 'latin1' })
  await chmod(join(dir, 'electron'), 0o755)
  await writeFile(
    join(dir, 'chrome-sandbox'),
    '#!/bin/sh\n# STAND-IN for chrome-sandbox (npm run dist:check)\nexit 1\n',
  )
  await chmod(join(dir, 'chrome-sandbox'), 0o755)
  await writeFile(join(dir, 'LICENSE'), `Stand-in for Electron's LICENSE.\n${LABEL_TEXT}`)
  await writeFile(join(dir, STAND_IN_LABEL), LABEL_TEXT)
  return dir
}
