// Loaded with `node --import` into the process that runs electron-builder for
// `npm run dist:check`. Packaging is checked offline: anything that tries the
// network (an Electron download, fpm, the icon toolset, a publisher) is a bug
// in the check's configuration, so it must fail loudly instead of hanging on a
// firewall or quietly using a cache. Every TCP connect and DNS lookup throws
// NetworkBlockedError and is appended to $KAIWA_DIST_NET_LOG, so the parent
// fails even when electron-builder catches the error and carries on.
// (The parent also runs this process in an empty network namespace when it can;
// that catches non-Node children, which this guard cannot see.)
import { appendFileSync } from 'node:fs'
import dns from 'node:dns'
import net from 'node:net'

export class NetworkBlockedError extends Error {
  static name = 'NetworkBlockedError'
  constructor(what) {
    super(
      `dist:check is offline, but something tried the network: ${what}. ` +
        'Find which electron-builder option downloads it and replace it with a local input ' +
        '(see scripts/dist-check.mjs).',
    )
    this.name = NetworkBlockedError.name
  }
}

function block(what) {
  const error = new NetworkBlockedError(what)
  const log = process.env.KAIWA_DIST_NET_LOG
  if (log) appendFileSync(log, `${what}\n${error.stack}\n\n`)
  throw error
}

/** Describes a Socket#connect call; IPC over a Unix socket path is not the network. */
function describe(args) {
  const [first, second] = args
  const options = Array.isArray(first) ? first[0] : first
  if (options && typeof options === 'object') {
    if (options.path != null) return undefined
    return `connect to ${options.host ?? 'localhost'}:${options.port}`
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return undefined
  return `connect to ${typeof second === 'string' ? second : 'localhost'}:${first}`
}

const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function guardedConnect(...args) {
  const what = describe(args)
  if (what !== undefined) block(what)
  return connect.apply(this, args)
}

for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6']) {
  dns[name] = (host) => block(`DNS ${name} of ${host}`)
  dns.promises[name] = async (host) => block(`DNS ${name} of ${host}`)
}
