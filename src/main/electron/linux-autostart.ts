/**
 * Autostart on Linux, where Electron's setLoginItemSettings does nothing: an
 * XDG autostart entry (`$XDG_CONFIG_HOME/autostart/kaiwa.desktop`, from the
 * freedesktop Desktop Application Autostart spec), written only when the user
 * opts in and removed when they opt out.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

export const AUTOSTART_FILE = 'kaiwa.desktop'

/**
 * Quote one Exec argument (Desktop Entry spec, "The Exec key"): inside double
 * quotes, `"`, `` ` ``, `$` and `\` are escaped with a backslash; `%` is
 * doubled because Exec gives it a meaning of its own.
 */
export function quoteExecArg(arg: string): string {
  if (/[\n\r]/.test(arg)) throw new RangeError('an Exec argument cannot contain a line break')
  const escaped = arg.replace(/(["`$\\])/g, '\\$1').replace(/%/g, '%%')
  return /^[A-Za-z0-9_./=:@+-]+$/.test(arg) ? escaped : `"${escaped}"`
}

export function autostartDesktopEntry(exec: string, args: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Kaiwa',
    'Comment=Peer-to-peer calls and chat',
    `Exec=${[exec, ...args].map(quoteExecArg).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n')
}

export function autostartDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const config = env.XDG_CONFIG_HOME
  // The spec says to ignore a relative XDG_CONFIG_HOME.
  return join(
    config != null && config.startsWith('/') ? config : join(home, '.config'),
    'autostart',
  )
}

export interface LinuxAutostart {
  get(): Promise<boolean>
  set(enabled: boolean): Promise<boolean>
}

/** `exec` and `args`: how to start this app again (the AppImage, or the binary and app path). */
export function linuxAutostart(dir: string, exec: string, args: readonly string[]): LinuxAutostart {
  const file = join(dir, AUTOSTART_FILE)
  const get = async (): Promise<boolean> => (await stat(file).catch(() => undefined)) !== undefined
  return {
    get,
    async set(enabled) {
      if (enabled) {
        await mkdir(dir, { recursive: true, mode: 0o700 })
        await writeFile(file, autostartDesktopEntry(exec, args), { mode: 0o644 })
      } else {
        await rm(file, { force: true })
      }
      return get()
    },
  }
}
