/**
 * `kaiwa node`'s settings: flags override the config file, which overrides
 * the defaults; a bad file is a usage error that names the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseCommand, UsageError } from '../../../src/main/cli/args.js'
import type { NodeCommand } from '../../../src/main/cli/args.js'
import { resolveNodeConfig } from '../../../src/main/cli/node-config.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function withConfig(config: unknown, ...flags: string[]): NodeCommand {
  const dir = mkdtempSync(join(tmpdir(), 'kaiwa-config-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
  return parseCommand(['node', '--data', dir, ...flags]) as NodeCommand
}

describe('resolveNodeConfig', () => {
  it('anchors media by default, and the config file can turn it off', async () => {
    expect((await resolveNodeConfig(withConfig({}))).mediaAnchor).toBeUndefined()
    expect((await resolveNodeConfig(withConfig({ mediaAnchor: false }))).mediaAnchor).toBe(false)
  })

  it('lets a flag override the file', async () => {
    const cmd = withConfig({ mediaAnchor: true, supernode: 'auto' }, '--no-media-anchor')
    const resolved = await resolveNodeConfig(cmd)
    expect(resolved.mediaAnchor).toBe(false)
    expect(resolved.supernode).toBe('auto')
  })

  it('takes --turn-workers 1-64 (TURN relay threads), refusing anything else', async () => {
    expect((await resolveNodeConfig(withConfig({}))).turnWorkers).toBeUndefined()
    expect((await resolveNodeConfig(withConfig({}, '--turn-workers', '3'))).turnWorkers).toBe(3)
    for (const bad of ['0', '65', 'two', '-1', '1.5']) {
      expect(() => withConfig({}, '--turn-workers', bad), bad).toThrow(UsageError)
    }
  })

  it('defaults to the client role', async () => {
    const resolved = await resolveNodeConfig(withConfig({}))
    expect(resolved.supernode).toBe('off')
    expect(resolved.supernodeLocked).toBe(false)
  })

  it('serves the port-443 bridge by default, optionally; a flag or the file chooses a port', async () => {
    const byDefault = await resolveNodeConfig(withConfig({}))
    expect([byDefault.bridgePort, byDefault.bridgePortOptional]).toEqual([443, true])
    const fromFile = await resolveNodeConfig(withConfig({ bridgePort: 8443 }))
    expect([fromFile.bridgePort, fromFile.bridgePortOptional]).toEqual([8443, false])
    const off = await resolveNodeConfig(withConfig({ bridgePort: 8443 }, '--bridge-port', '0'))
    expect([off.bridgePort, off.bridgePortOptional]).toEqual([0, false])
    await expect(resolveNodeConfig(withConfig({ bridgePort: 70000 }))).rejects.toThrow(UsageError)
  })

  it('refuses an unknown key or a wrong type, naming the file', async () => {
    await expect(resolveNodeConfig(withConfig({ mediaAnchr: false }))).rejects.toThrow(UsageError)
    await expect(resolveNodeConfig(withConfig({ mediaAnchor: 'no' }))).rejects.toThrow(
      /config\.json is invalid/,
    )
  })
})
