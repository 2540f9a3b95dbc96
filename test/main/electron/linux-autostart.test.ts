import { readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AUTOSTART_FILE,
  autostartDesktopEntry,
  autostartDir,
  linuxAutostart,
  quoteExecArg,
} from '../../../src/main/electron/linux-autostart.js'
import { tempDir } from '../../helpers/nodes.js'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('Linux autostart', () => {
  it('quotes Exec arguments as the Desktop Entry spec says', () => {
    expect(quoteExecArg('/opt/Kaiwa/kaiwa')).toBe('/opt/Kaiwa/kaiwa')
    expect(quoteExecArg('--hidden')).toBe('--hidden')
    expect(quoteExecArg('/home/me/My Apps/Kaiwa.AppImage')).toBe(
      '"/home/me/My Apps/Kaiwa.AppImage"',
    )
    expect(quoteExecArg('a"b$c`d\\e')).toBe('"a\\"b\\$c\\`d\\\\e"')
    expect(quoteExecArg('100%')).toBe('"100%%"')
    expect(() => quoteExecArg('a\nExec=evil')).toThrow(RangeError)
  })

  it('writes a desktop entry that starts Kaiwa hidden', () => {
    const entry = autostartDesktopEntry('/opt/Kaiwa/kaiwa', ['--hidden'])
    expect(entry.split('\n')[0]).toBe('[Desktop Entry]')
    expect(entry).toContain('\nType=Application\n')
    expect(entry).toContain('\nExec=/opt/Kaiwa/kaiwa --hidden\n')
  })

  it('follows XDG_CONFIG_HOME when it is absolute', () => {
    expect(autostartDir({ XDG_CONFIG_HOME: '/cfg' }, '/home/me')).toBe('/cfg/autostart')
    expect(autostartDir({ XDG_CONFIG_HOME: 'rel' }, '/home/me')).toBe('/home/me/.config/autostart')
    expect(autostartDir({}, '/home/me')).toBe('/home/me/.config/autostart')
  })

  it('turns on and off', async () => {
    const base = await tempDir('kaiwa-autostart-')
    dirs.push(base)
    const dir = join(base, 'autostart')
    const a = linuxAutostart(dir, '/opt/Kaiwa/kaiwa', ['--hidden'])
    expect(await a.get()).toBe(false)
    expect(await a.set(true)).toBe(true)
    const file = join(dir, AUTOSTART_FILE)
    expect(await readFile(file, 'utf8')).toContain('Exec=/opt/Kaiwa/kaiwa --hidden')
    expect((await stat(file)).mode & 0o777).toBe(0o644)
    expect(await a.set(false)).toBe(false)
    expect(await a.set(false)).toBe(false) // idempotent
  })
})
