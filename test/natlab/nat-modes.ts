/**
 * The NAT behaviours a lab router can have, in RFC 4787 terms (mapping: how the
 * external port is chosen; filtering: which inbound packets get in), built from
 * Linux conntrack NAT with nftables. nat-modes.test.ts measures each one with
 * UDP probes, so the names below are checked, not assumed.
 *
 * | mode            | mapping (RFC 4787 §4.1)   | filtering (§5)                 |
 * | none            | no translation, routed    | none                           |
 * | full-cone       | endpoint-independent      | endpoint-independent           |
 * | port-restricted | endpoint-independent      | address-and-port-dependent     |
 * | symmetric       | address-and-port-dependent| address-and-port-dependent     |
 *
 * No mode hairpins: a packet from the LAN to the router's own public address is
 * not translated back into the LAN, as on many home gateways.
 */
import { nftIn, shIn } from './exec.js'

export const NAT_MODES = ['none', 'full-cone', 'port-restricted', 'symmetric'] as const
export type NatMode = (typeof NAT_MODES)[number]

/** What UDP hole punching (ICE with STUN, no TURN) can do between two NAT modes. */
export function punchable(a: NatMode, b: NatMode): boolean {
  const rank = (m: NatMode): number =>
    m === 'none' || m === 'full-cone' ? 0 : m === 'port-restricted' ? 1 : 2
  // Symmetric defeats punching unless the other side lets any sender in
  // (public or full cone): its new mapping per destination is unknown in
  // advance, so a port-restricted peer's filter never opens for it.
  const [x, y] = [rank(a), rank(b)].sort((p, q) => p - q) as [number, number]
  return !(y === 2 && x >= 1)
}

/** The nftables table every lab router gets; one name, so it is easy to inspect. */
export const NAT_TABLE = 'natlab'

/**
 * The ruleset for a router whose WAN interface is `wan`. Linux NAT keeps the
 * source port whenever that tuple is free, which is what makes plain
 * masquerade endpoint-independent in its mapping; conntrack only lets replies
 * from the exact remote address and port back in (port-restricted filtering).
 *
 * Linux has no full-cone target (xt_FULLCONENAT is out of tree), so full cone
 * is built from masquerade plus a dynamic map: every outbound UDP packet
 * records "external port -> internal address.port" (refreshing a timeout, like
 * a mapping's lifetime), and any inbound UDP packet to a mapped port is DNATed
 * to its owner, whoever sent it. The map is read only on the WAN side, so the
 * LAN gets no hairpin through it.
 */
export function natRuleset(
  mode: NatMode,
  wan: string,
  mappingTimeoutS: number,
  firewall = true,
): string | null {
  if (mode === 'none') return null
  const masquerade =
    mode === 'symmetric'
      ? // A fresh random port for every new flow: a different mapping per destination.
        'masquerade fully-random'
      : 'masquerade'
  const lines = [
    `table ip ${NAT_TABLE} {`,
    `  chain post { type nat hook postrouting priority srcnat; policy accept;`,
    `    oifname "${wan}" ${masquerade}`,
    `  }`,
    // The home-router firewall: unsolicited packets from the WAN are dropped
    // (only full cone's DNATed ones pass). Dropping them here, before conntrack
    // confirms them, matters: without it, a peer's punching packet that arrives
    // before our own first packet leaves a conntrack entry for the router
    // itself on exactly the tuple our mapping needs, and masquerade then picks
    // another port (the mapping stops being endpoint-independent just when
    // hole punching needs it). nat-modes.test.ts covers both.
    ...(firewall
      ? [
          `  chain input { type filter hook input priority filter; policy accept;`,
          `    iifname "${wan}" ct state new drop`,
          `  }`,
          `  chain forward { type filter hook forward priority filter; policy accept;`,
          `    iifname "${wan}" ct state new ct status dnat accept`,
          `    iifname "${wan}" ct state new drop`,
          `  }`,
        ]
      : []),
  ]
  if (mode === 'full-cone') {
    lines.push(
      `  map cone { type inet_service : ipv4_addr . inet_service; flags dynamic,timeout; timeout ${mappingTimeoutS}s; }`,
      `  chain pre { type nat hook prerouting priority dstnat; policy accept;`,
      `    iifname "${wan}" dnat ip to udp dport map @cone`,
      `  }`,
      // After srcnat, so the conntrack's reply tuple holds the external port.
      `  chain learn { type filter hook postrouting priority srcnat + 10; policy accept;`,
      `    oifname "${wan}" meta l4proto udp ct direction original update @cone { ct reply proto-dst timeout ${mappingTimeoutS}s : ct original ip saddr . ct original proto-src }`,
      `  }`,
    )
  }
  lines.push('}')
  return lines.join('\n')
}

/**
 * Router sysctls: forwarding on, short UDP conntrack timeouts (so idle links
 * really lose their mappings and keepalives are tested), conntrack accounting
 * (the lab reads per-flow byte counts), and bridged LAN frames kept out of the
 * router's IP hooks (br_netfilter on the host turns that on in every
 * namespace). The netfilter sysctls are per network namespace on current
 * kernels; nat-modes.test.ts checks that the host's values do not change.
 */
export function configureRouter(ns: string, opts: { udpTimeoutS: number }): void {
  const t = String(opts.udpTimeoutS)
  shIn(
    ns,
    [
      'echo 1 > /proc/sys/net/ipv4/ip_forward',
      'echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter',
      'echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects',
      // Loaded on demand in a fresh namespace; an nft nat table pulls it in too.
      `[ -d /proc/sys/net/netfilter ] || { echo "no conntrack sysctls in ${ns}" >&2; exit 1; }`,
      `echo ${t} > /proc/sys/net/netfilter/nf_conntrack_udp_timeout`,
      `echo ${t} > /proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream`,
      'echo 1 > /proc/sys/net/netfilter/nf_conntrack_acct',
      'if [ -w /proc/sys/net/bridge/bridge-nf-call-iptables ]; then echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables; fi',
    ].join('\n'),
  )
}

export function applyNat(
  ns: string,
  mode: NatMode,
  wan: string,
  udpTimeoutS: number,
  firewall = true,
): void {
  const rules = natRuleset(mode, wan, udpTimeoutS, firewall)
  if (rules != null) nftIn(ns, rules)
}
