/**
 * Network namespaces for tests that must not touch the host's network (mDNS
 * multicast, later the NAT lab): each lab gets a unique prefix, and `destroy`
 * removes only what it created.
 */
import { execFileSync } from 'node:child_process'

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

export function netnsAvailable(): boolean {
  try {
    return process.getuid?.() === 0 && ip('netns', 'list') !== undefined
  } catch {
    return false
  }
}

export interface Lan {
  namespaces: string[]
  /** The address of host i on the LAN. */
  addr(i: number): string
  destroy(): void
}

/**
 * `hosts` namespaces joined by a bridge namespace into one LAN 10.77.<n>.0/24,
 * each with loopback up (the control API binds 127.0.0.1) and a multicast route
 * (224.0.0.0/4, for mDNS), and no default route. `prefix` starts every
 * namespace's name (a test given its own prefix uses it).
 */
export function createLan(hosts: number, prefix = 'kw'): Lan {
  // Interface names (tag + 'a' + i) must stay within Linux's 15 characters.
  const tag = `${prefix}${process.pid % 10000}${Math.floor(Math.random() * 100)}`
  const subnet = 10 + (process.pid % 200)
  const sw = `${tag}sw`
  const namespaces: string[] = []
  const created: string[] = []
  const destroy = (): void => {
    for (const ns of created.reverse()) {
      try {
        ip('netns', 'del', ns)
      } catch {
        // already gone
      }
    }
  }
  try {
    ip('netns', 'add', sw)
    created.push(sw)
    // No multicast snooping: mDNS must flood to every host, as on a home switch.
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0')
    ip('-n', sw, 'link', 'set', 'br0', 'up')
    for (let i = 0; i < hosts; i++) {
      const ns = `${tag}h${i}`
      ip('netns', 'add', ns)
      created.push(ns)
      namespaces.push(ns)
      ip(
        'link',
        'add',
        `${tag}a${i}`,
        'netns',
        ns,
        'type',
        'veth',
        'peer',
        'name',
        `${tag}b${i}`,
        'netns',
        sw,
      )
      ip('-n', ns, 'link', 'set', `${tag}a${i}`, 'name', 'eth0')
      ip('-n', ns, 'addr', 'add', `10.77.${subnet}.${i + 1}/24`, 'dev', 'eth0')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0')
      ip('-n', sw, 'link', 'set', `${tag}b${i}`, 'master', 'br0')
      ip('-n', sw, 'link', 'set', `${tag}b${i}`, 'up')
    }
  } catch (err) {
    destroy()
    throw err
  }
  return { namespaces, addr: (i) => `10.77.${subnet}.${i + 1}`, destroy }
}
