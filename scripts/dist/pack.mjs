// Runs electron-builder for `npm run dist:check`: the Linux unpacked app and a
// .deb, from electron-builder.yml, with the Electron stand-in as electronDist.
// scripts/dist-check.mjs starts this in its own process (in an empty network
// namespace, with scripts/dist/no-network.mjs preloaded, and CUSTOM_FPM_PATH
// pointing at scripts/dist/fpm-deb.mjs); it is not meant to be run by hand.
//
// Usage: node scripts/dist/pack.mjs OUT_DIR ELECTRON_DIST SUMMARY_JSON
// Writes SUMMARY_JSON: the artifacts, the unpacked directory and the parts of
// electron-builder's effective configuration the checks compare against, so
// the checks follow electron-builder.yml instead of repeating it.
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import builder from 'electron-builder'

const { build, Platform, Arch } = builder
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const [outDir, electronDist, summaryPath] = process.argv.slice(2)
if (!outDir || !electronDist || !summaryPath) {
  console.error('usage: node scripts/dist/pack.mjs OUT_DIR ELECTRON_DIST SUMMARY_JSON')
  process.exit(2)
}

let packed
const artifacts = await build({
  projectDir: ROOT,
  targets: Platform.LINUX.createTarget(['dir', 'deb'], Arch.x64),
  publish: 'never',
  // Merged over electron-builder.yml (app-builder-lib getConfig): only what
  // makes the build offline and keeps its output apart from real releases.
  config: {
    electronDist,
    directories: { output: outDir },
    // The file name says what it is; the package inside keeps its real name.
    deb: { artifactName: '${name}_${version}_${arch}.stand-in-electron.${ext}' },
    afterPack: async (context) => {
      const { packager, appOutDir } = context
      const { config, appInfo } = packager
      packed = {
        appOutDir,
        executableName: packager.executableName,
        productName: appInfo.productName,
        sanitizedProductName: appInfo.sanitizedProductName,
        packageName: appInfo.linuxPackageName,
        version: appInfo.version,
        main: packager.info.metadata.main,
        desktopName: packager.info.metadata.desktopName,
        electronVersion: config.electronVersion,
        electronFuses: config.electronFuses ?? null,
        asarUnpack: config.asarUnpack ?? [],
        protocols: config.protocols ?? [],
        // FpmTarget's options: the linux section with the deb section over it.
        deb: { ...packager.platformSpecificBuildOptions, ...config.deb },
      }
    },
  },
})

if (packed === undefined) {
  console.error('electron-builder finished without packing (afterPack never ran)')
  process.exit(1)
}
await writeFile(summaryPath, JSON.stringify({ ...packed, artifacts }, null, 2))
