/**
 * scripts/electron.mjs (`npm start`). Electron cannot be downloaded here, so
 * it is run with ELECTRON_OVERRIDE_DIST_PATH (the electron package's own
 * override) pointing at nothing, and at a stand-in executable.
 */
import { execFile } from 'node:child_process'
import { chmod, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from '../../helpers/cli.js'
import { tempDir } from '../../helpers/nodes.js'

const LAUNCHER = join(ROOT, 'scripts', 'electron.mjs')

function launch(env: Record<string, string>, args: string[] = []) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [LAUNCHER, ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

let dir: string
beforeAll(async () => {
  dir = await tempDir('kaiwa-fake-electron-')
  // Prints what it was started with, and exits 3.
  const fake = join(dir, 'electron')
  await writeFile(
    fake,
    `#!${process.execPath}\nconsole.log(JSON.stringify({ argv: process.argv.slice(2), runAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null }))\nprocess.exit(3)\n`,
  )
  await chmod(fake, 0o755)
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('npm start launcher', () => {
  it('explains a missing Electron binary and points to the web mode', async () => {
    const r = await launch({ ELECTRON_OVERRIDE_DIST_PATH: join(dir, 'nowhere') })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('the Electron binary is missing')
    expect(r.stderr).toContain(join(dir, 'nowhere', 'electron'))
    expect(r.stderr).toContain('cannot download it')
    expect(r.stderr).toContain('npx kaiwa node --ui')
  })

  it('starts Electron on the app, passing arguments and its exit code through', async () => {
    const r = await launch({ ELECTRON_OVERRIDE_DIST_PATH: dir, ELECTRON_RUN_AS_NODE: '1' }, [
      'kaiwa:alice',
    ])
    expect(r.code).toBe(3)
    // `electron <project>` runs package.json "main"; ELECTRON_RUN_AS_NODE would make it plain Node.
    expect(JSON.parse(r.stdout)).toEqual({ argv: [resolve(ROOT), 'kaiwa:alice'], runAsNode: null })
  })
})
