/**
 * The real `kaiwa node` processes behind the UI end-to-end tests: a
 * supernode, with its own STUN/TURN on 127.0.0.1 when a test needs relay
 * candidates, and the flags of a UI client joining through it.
 */
import { join } from 'node:path'
import { LOOPBACK, spawnNode } from '../helpers/cli.js'
import type { NodeProcess } from '../helpers/cli.js'
import { freePortIn } from '../helpers/port-range.js'
import type { PortRange } from '../helpers/port-range.js'

/**
 * A supernode in `home`/sn serving STUN/TURN on 127.0.0.1 (the shared
 * LOOPBACK flags turn it off) on a port free in `turnPorts`, relaying from
 * `relayPorts` ('LO-HI').
 */
export async function spawnTurnSupernode(
  home: string,
  turnPorts: PortRange,
  relayPorts: string,
): Promise<NodeProcess> {
  const noTurn = LOOPBACK.filter((a, i) => a !== '--turn-port' && LOOPBACK[i - 1] !== '--turn-port')
  const turn = ['--turn-port', String(await freePortIn(turnPorts)), '--turn-host', '127.0.0.1']
  return spawnNode(
    [
      '--data',
      join(home, 'sn'),
      '--supernode',
      'on',
      ...noTurn,
      ...turn,
      '--turn-relay-ports',
      relayPorts,
    ],
    home,
  )
}

/** A client with the UI, joining through `sn`, on loopback. */
export const uiClientArgs = (sn: NodeProcess): string[] => [
  '--bootstrap',
  sn.ready.addrs[0]!,
  '--supernode',
  'off',
  ...LOOPBACK,
  '--ui',
]
