import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  loadOrCreateApiToken,
  readApiEndpoint,
  removeApiEndpoint,
  writeApiEndpoint,
} from '../../../src/main/api/api-token.js'
import { CorruptDataError, NodeNotRunningError } from '../../../src/main/errors.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kaiwa-token-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('loadOrCreateApiToken', () => {
  it('creates a private 43-char token and reuses it', async () => {
    const token = await loadOrCreateApiToken(dir)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await stat(join(dir, 'api-token'))).mode & 0o777).toBe(0o600)
    expect(await loadOrCreateApiToken(dir)).toBe(token)
  })

  it('creates the data directory if needed', async () => {
    const nested = join(dir, 'a', 'b')
    expect(await loadOrCreateApiToken(nested)).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('agrees with itself when called concurrently', async () => {
    const tokens = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateApiToken(dir)))
    expect(new Set(tokens).size).toBe(1)
  })

  it('refuses a corrupt token file and says what to do', async () => {
    for (const content of ['', 'garbage', 'A'.repeat(42), 'A'.repeat(42) + '=']) {
      await writeFile(join(dir, 'api-token'), content)
      const err = await loadOrCreateApiToken(dir).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(CorruptDataError)
      expect((err as Error).message).toContain(`delete ${join(dir, 'api-token')} and restart`)
    }
  })
})

describe('api endpoint file', () => {
  it('round-trips for a live pid, privately', async () => {
    await writeApiEndpoint(dir, { url: 'http://127.0.0.1:1234', pid: process.pid })
    expect(await readApiEndpoint(dir)).toEqual({ url: 'http://127.0.0.1:1234', pid: process.pid })
    expect((await stat(join(dir, 'api.json'))).mode & 0o777).toBe(0o600)
    await writeApiEndpoint(dir, { url: 'http://127.0.0.1:5678', pid: process.pid })
    expect((await readApiEndpoint(dir)).url).toBe('http://127.0.0.1:5678')
    await removeApiEndpoint(dir)
    await removeApiEndpoint(dir)
    await expect(readApiEndpoint(dir)).rejects.toBeInstanceOf(NodeNotRunningError)
  })

  it('reports a missing file with a hint', async () => {
    const err = await readApiEndpoint(dir).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NodeNotRunningError)
    expect((err as Error).message).toBe(
      `no Kaiwa node is running for ${dir}; start one with: kaiwa node --data ${dir}`,
    )
  })

  it('treats a dead pid as not running', async () => {
    const { pid } = spawnSync(process.execPath, ['-e', ''])
    await writeApiEndpoint(dir, { url: 'http://127.0.0.1:1234', pid })
    await expect(readApiEndpoint(dir)).rejects.toBeInstanceOf(NodeNotRunningError)
  })

  it('refuses a garbled file', async () => {
    await writeFile(join(dir, 'api.json'), '{"url":')
    await expect(readApiEndpoint(dir)).rejects.toBeInstanceOf(CorruptDataError)
    await writeFile(join(dir, 'api.json'), JSON.stringify({ url: 'x', pid: 'y' }))
    await expect(readApiEndpoint(dir)).rejects.toBeInstanceOf(CorruptDataError)
    expect(await readFile(join(dir, 'api.json'), 'utf8')).toContain('"pid":"y"')
  })
})
