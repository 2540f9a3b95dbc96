/** What `--metrics-port` exposes: the node's usage, role and relay figures as Prometheus metrics. */
import type { Metric } from './api/metrics-server.js'
import type { KaiwaNode } from './kaiwa-node.js'

export async function collectNodeMetrics(node: KaiwaNode): Promise<Metric[]> {
  const status = await node.api.status({})
  const u = status.usage
  const g = (
    name: string,
    help: string,
    value: number,
    labels?: Record<string, string>,
  ): Metric => ({
    name,
    help,
    type: 'gauge',
    value,
    ...(labels != null ? { labels } : {}),
  })
  const c = (name: string, help: string, value: number): Metric => ({
    name,
    help,
    type: 'counter',
    value,
  })
  const metrics: Metric[] = [
    g(
      'kaiwa_supernode',
      '1 while this node serves as a supernode',
      status.role === 'supernode' ? 1 : 0,
    ),
    g('kaiwa_peers', 'connected libp2p peers', status.peers),
    g('kaiwa_supernodes_connected', 'connected supernodes', status.supernodes.length),
    g('kaiwa_records_stored', 'DHT records held for the overlay', u.recordsStored),
    g('kaiwa_peers_served', 'clients attached to this supernode', u.peersServed),
    g('kaiwa_relayed_calls', 'live TURN allocations', u.relayedCalls),
    g('kaiwa_relay_kbps', 'TURN relay rate, kbit/s', u.relayKbps),
    c('kaiwa_relay_bytes_total', 'bytes relayed by TURN, both directions', u.bytesRelayed),
    g('kaiwa_mailbox_bytes', 'offline mail held for others, bytes', u.mailboxBytes),
    g('kaiwa_mailbox_messages', 'offline mail held for others, messages', u.mailboxMessages),
    g('kaiwa_cap_relay_kbps', 'cap on relayed bandwidth, kbit/s', u.caps.relayKbps),
    g('kaiwa_cap_relayed_calls', 'cap on concurrent relayed calls', u.caps.relayedCalls),
    g('kaiwa_cap_storage_mib', 'cap on storage for others, MiB', u.caps.storageMiB),
    g('kaiwa_uptime_seconds', 'seconds since the node started', status.uptimeSeconds),
  ]
  for (const [k, v] of Object.entries(status.turn?.stats ?? {}))
    if (typeof v === 'number')
      metrics.push(
        g(`kaiwa_turn_${k.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`)}`, `TURN ${k}`, v),
      )
  return metrics
}
