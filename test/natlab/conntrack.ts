/**
 * The conntrack table of a namespace, read from /proc/net/nf_conntrack (no
 * conntrack-tools needed). With nf_conntrack_acct=1 (lab routers) each flow
 * carries packet and byte counts per direction: which flows crossed a NAT,
 * what external port they got, and whether anything came back.
 */
export interface ConntrackEntry {
  proto: string
  /** TCP state, if any. */
  state: string | null
  /** Seconds left before conntrack forgets the flow. */
  timeout: number
  orig: FlowTuple
  reply: FlowTuple
  assured: boolean
}
export interface FlowTuple {
  src: string
  dst: string
  sport: number
  dport: number
  packets: number
  bytes: number
}

/** One line of /proc/net/nf_conntrack, e.g. `ipv4 2 udp 17 28 src=… dst=… sport=… …`. */
export function parseConntrackLine(line: string): ConntrackEntry | null {
  const words = line.trim().split(/\s+/)
  if (words.length < 6 || words[0] !== 'ipv4') return null
  const proto = words[2]!
  const timeout = Number(words[4])
  const state = /^[A-Z_]+$/.test(words[5]!) ? words[5]! : null
  const tuples: FlowTuple[] = []
  let cur: Partial<Record<string, string>> = {}
  for (const w of words.slice(5)) {
    const m = /^(src|dst|sport|dport|packets|bytes)=(.*)$/.exec(w)
    if (m == null) continue
    if (m[1] === 'src' && cur.src != null) {
      tuples.push(toTuple(cur))
      cur = {}
    }
    cur[m[1]!] = m[2]!
  }
  if (cur.src != null) tuples.push(toTuple(cur))
  if (tuples.length < 2) return null
  return {
    proto,
    state,
    timeout,
    orig: tuples[0]!,
    reply: tuples[1]!,
    assured: line.includes('[ASSURED]'),
  }
}

function toTuple(t: Partial<Record<string, string>>): FlowTuple {
  return {
    src: t.src ?? '',
    dst: t.dst ?? '',
    sport: Number(t.sport ?? 0),
    dport: Number(t.dport ?? 0),
    packets: Number(t.packets ?? 0),
    bytes: Number(t.bytes ?? 0),
  }
}
