/**
 * The built Electron bundles (dist/electron, from rolldown.electron.config.mjs),
 * checked under plain Node since Electron cannot run here: the preload is one
 * CommonJS file that needs nothing but `electron` (what a sandboxed preload
 * may load), the main bundle loads no native addon, and the node host bundle
 * runs a real node behind a stand-in for Electron's parent port.
 */
import { spawn } from 'node:child_process'
import { readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createInterface } from 'node:readline'
import { runInNewContext } from 'node:vm'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApiClient } from '../../../src/main/api/api-client.js'
import {
  MAIN_BUNDLE,
  NODE_HOST_BUNDLE,
  PRELOAD_BUNDLE,
  appPaths,
} from '../../../src/main/electron/app-paths.js'
import { FromHostSchema, connectionOf } from '../../../src/main/electron/host-protocol.js'
import { LOOPBACK, ROOT } from '../../helpers/cli.js'
import { LOG_LEVEL, tempDir } from '../../helpers/nodes.js'

const DIR = join(ROOT, 'dist', 'electron')
const paths = appPaths(DIR)

beforeAll(async () => {
  for (const file of [MAIN_BUNDLE, NODE_HOST_BUNDLE, PRELOAD_BUNDLE]) {
    if ((await stat(join(DIR, file)).catch(() => undefined)) === undefined) {
      throw new Error(
        `dist/electron/${file} is missing: run npm run build (rolldown -c rolldown.electron.config.mjs)`,
      )
    }
  }
})

describe('Electron bundles', () => {
  it('lays out main, node host, preload and UI as the main process expects', () => {
    expect(paths.preload).toBe(join(DIR, PRELOAD_BUNDLE))
    expect(paths.nodeHost).toBe(join(DIR, NODE_HOST_BUNDLE))
    expect(paths.uiRoot).toBe(join(ROOT, 'dist', 'ui'))
  })

  it('builds a sandbox-compatible preload: CommonJS, requiring only electron', async () => {
    const code = await readFile(paths.preload, 'utf8')
    const required: string[] = []
    const exposed = new Map<string, unknown>()
    const electron = {
      contextBridge: { exposeInMainWorld: (k: string, v: unknown) => exposed.set(k, v) },
      ipcRenderer: { on: () => {}, send: () => {}, invoke: async () => ({ ok: true }) },
    }
    const module = { exports: {} }
    runInNewContext(code, {
      module,
      exports: module.exports,
      // A sandboxed preload's require knows `electron` and a few polyfills, never files.
      require: (id: string) => {
        required.push(id)
        if (id !== 'electron') throw new Error(`a sandboxed preload cannot require ${id}`)
        return electron
      },
      process: { versions: { electron: '45.0.0', chrome: '140', node: '22' } },
    })
    expect(required).toEqual(['electron'])
    expect([...exposed.keys()]).toEqual(['kaiwa'])
  })

  it('keeps native addons out of the main process bundle', async () => {
    const code = await readFile(join(DIR, MAIN_BUNDLE), 'utf8')
    const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!)
    expect(imports).toContain('electron')
    for (const id of imports) expect(id === 'electron' || id.startsWith('node:'), id).toBe(true)
  })

  it('runs a node from the host bundle behind a stand-in parent port', async () => {
    const dataDir = await tempDir('kaiwa-host-bundle-')
    // process.parentPort as Electron's utility process provides it, over stdio.
    const shim = `
      import { EventEmitter } from 'node:events'
      import { createInterface } from 'node:readline'
      const port = new EventEmitter()
      port.postMessage = (m) => process.stdout.write(JSON.stringify(m) + '\\n')
      process.parentPort = port
      createInterface({ input: process.stdin }).on('line', (l) => port.emit('message', { data: JSON.parse(l) }))
      await import(process.env.KAIWA_HOST_BUNDLE)
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', shim], {
      env: { ...process.env, KAIWA_HOST_BUNDLE: pathToFileURL(paths.nodeHost).href },
      stdio: ['pipe', 'pipe', LOG_LEVEL === 'silent' ? 'ignore' : 'inherit'],
    })
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    )
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
      const args = ['--data', dataDir, '--supernode', 'on', '--log-level', LOG_LEVEL, ...LOOPBACK]
      child.stdin.write(JSON.stringify({ type: 'start', args }) + '\n')
      const first = await lines.next()
      const msg = FromHostSchema.parse(JSON.parse(String(first.value)))
      if (msg.type !== 'ready') throw new Error(`the host failed: ${msg.message}`)
      const c = connectionOf(msg)
      const status = await createApiClient({ url: c.url, token: c.token }).status({})
      expect(status.peerId).toBe(c.peerId)
      child.stdin.write(JSON.stringify({ type: 'stop' }) + '\n')
      expect(await exited).toBe(0)
    } finally {
      child.kill()
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 60_000)
})
