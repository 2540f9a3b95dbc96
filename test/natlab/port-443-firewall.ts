/**
 * A corporate or hotel firewall on a lab site's router: from the LAN to the WAN only new TCP
 * connections to port 443 pass (and the packets of connections already allowed); all UDP and
 * every other TCP port are dropped, and counted, so a test can show the client really tried
 * them. It sits in its own nftables table beside the router's NAT (nat-modes.ts), in the forward
 * hook just before the NAT table's filter chain.
 */
import { NFT, inNs, nftIn } from './exec.js'
import type { LabSite } from './lab.js'

export const FIREWALL_TABLE = 'only443'

export function port443Ruleset(): string {
  return [
    `table inet ${FIREWALL_TABLE} {`,
    `  chain forward { type filter hook forward priority filter - 5; policy accept;`,
    `    iifname "lan" oifname "wan" ct state established,related accept`,
    `    iifname "lan" oifname "wan" meta l4proto tcp th dport 443 accept`,
    `    iifname "lan" oifname "wan" meta l4proto udp counter name udp_dropped drop`,
    `    iifname "lan" oifname "wan" counter name other_dropped drop`,
    `  }`,
    `  counter udp_dropped { }`,
    `  counter other_dropped { }`,
    `}`,
  ].join('\n')
}

/** Put the 443-only firewall on `site`'s router. */
export function allowOnly443(site: LabSite): void {
  nftIn(site.router, port443Ruleset())
}

/** Packets the firewall dropped so far: UDP, and everything else (TCP to other ports, ICMP). */
export function firewallDrops(site: LabSite): { udp: number; other: number } {
  const read = (name: string): number => {
    const out = inNs(site.router, NFT, ['list', 'counter', 'inet', FIREWALL_TABLE, name])
    return Number(/packets (\d+)/.exec(out)?.[1] ?? NaN)
  }
  return { udp: read('udp_dropped'), other: read('other_dropped') }
}
