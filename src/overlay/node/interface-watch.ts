/**
 * Notices when this machine's network addresses change: a laptop moving from
 * Wi-Fi to tethering, an interface going down and coming back, a new IPv6
 * address (issue 13, roaming).
 *
 * Why a poll: libp2p announces `self:peer:update` when its listeners, observed
 * addresses or relay reservations change, but a listener on 0.0.0.0 or ::
 * expands to the interfaces' addresses only when asked, so an interface
 * change alone announces nothing, and the contact record would keep
 * addresses that no longer exist until the next hourly refresh. Node has no
 * interface-change event; reading the interface table is cheap (no syscalls
 * beyond getifaddrs), so a poll of a few seconds keeps "republish within
 * 5 s" with room to spare.
 */
import { networkInterfaces } from 'node:os'
import type { NetworkInterfaceInfo } from 'node:os'
import type { Logger } from '../../shared/logger.js'

export interface InterfaceWatchInit {
  /** The addresses changed: `added` and `removed` are `ip` strings. */
  onChange: (change: { added: string[]; removed: string[] }) => void
  log: Logger
  /** @default 2000 */
  intervalMs?: number
  /** The interface table (tests give their own). @default os.networkInterfaces */
  read?: () => NodeJS.Dict<NetworkInterfaceInfo[]>
}

export class InterfaceWatch {
  private timer: ReturnType<typeof setInterval> | undefined
  private known = new Set<string>()

  constructor(private readonly init: InterfaceWatchInit) {}

  start(): void {
    if (this.timer != null) return
    this.known = this.addresses()
    this.timer = setInterval(() => this.check(), this.init.intervalMs ?? 2000)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Compare the interface table with the last one seen (the poll's body). */
  check(): void {
    let now: Set<string>
    try {
      now = this.addresses()
    } catch (err) {
      this.init.log.debug(`cannot read the network interfaces: ${String(err)}`)
      return
    }
    const added = [...now].filter((a) => !this.known.has(a))
    const removed = [...this.known].filter((a) => !now.has(a))
    this.known = now
    if (added.length === 0 && removed.length === 0) return
    this.init.log.info(
      `network addresses changed (${[...added.map((a) => `+${a}`), ...removed.map((a) => `-${a}`)].join(' ')}): republishing`,
    )
    this.init.onChange({ added, removed })
  }

  /** Addresses a peer could reach: loopback never is; IPv6 link-local needs a scope no record carries. */
  private addresses(): Set<string> {
    const out = new Set<string>()
    for (const list of Object.values((this.init.read ?? networkInterfaces)())) {
      for (const a of list ?? []) {
        if (a.internal) continue
        if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:')) continue
        out.add(a.address)
      }
    }
    return out
  }
}
