/**
 * Fixed ports for tests that were given a port range (a gateway's port known
 * before it starts; stock-phone.ts takes phone blocks with `portFree`): free
 * on 127.0.0.1 for both UDP and TCP.
 */
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'

/** Inclusive. */
export interface PortRange {
  from: number
  to: number
}

/** True when `port` binds on 127.0.0.1 for TCP and for UDP right now. */
export async function portFree(port: number): Promise<boolean> {
  const tcp = await new Promise<boolean>((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
  if (!tcp) return false
  return new Promise<boolean>((resolve) => {
    const s = createSocket('udp4')
    s.once('error', () => resolve(false))
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/** A port free on 127.0.0.1 (UDP and TCP) in `range`, searched from a random one on. */
export async function freePortIn(range: PortRange): Promise<number> {
  const span = range.to - range.from + 1
  const first = Math.floor(Math.random() * span)
  for (let i = 0; i < span; i++) {
    const port = range.from + ((first + i) % span)
    if (await portFree(port)) return port
  }
  throw new Error(`no free port in ${range.from}-${range.to}`)
}
