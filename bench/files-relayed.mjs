// bench:files, the relayed part: a file through a supernode's TURN relay, in the NAT lab
// (network namespaces on this machine: veth pairs, no shaping, nftables NAT). Loopback alone
// cannot force the relay path: libjuice (node-datachannel's ICE) checks its host candidates
// even under iceTransportPolicy 'relay', so two nodes on one host always find the direct pair.
// Here alice sits behind a symmetric NAT and bob behind a port-restricted one: no punching
// works between them (test/natlab/nat-modes.ts), so the file goes WebRTC through the
// supernode's TURN, as it would for real users. Root only (network namespaces).
import './nat-ts.mjs'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

const { labUnavailableReason } = await import('../test/natlab/exec.ts')

const MiB = 1024 * 1024

/** Why the relayed part cannot run here, or null. */
export function relayedUnavailable() {
  return labUnavailableReason()
}

/**
 * Send `sizeMiB` from a symmetric-NAT client to a port-restricted-NAT client through the
 * supernode's TURN, whose allocations may relay `allocationKbps` each way.
 */
export async function relayedTransfer({ sizeMiB, allocationKbps, say }) {
  const { createLab } = await import('../test/natlab/lab.ts')
  const { bootstrapAddr, startLabNode, waitUntil } = await import('../test/natlab/kaiwa-lab.ts')
  const lab = createLab({ sites: [{ nat: 'symmetric' }, { nat: 'port-restricted' }] })
  try {
    say(
      'relayed: a supernode on a public host, alice behind a symmetric NAT, bob behind a port-restricted one',
    )
    const sn = await startLabNode(lab, lab.publicHosts[0], {
      label: 'sn',
      supernode: 'on',
      logLevel: 'warn',
      // --turn-host: TURN announces the public address without asking libp2p for it.
      extraArgs: [
        ...['--turn-allocation-kbps', String(allocationKbps)],
        ...['--turn-host', lab.publicHosts[0].addr],
      ],
    })
    await sn.api('settingsUpdate', { caps: { relayKbps: 4 * allocationKbps } })
    const boot = [bootstrapAddr(sn)]
    const client = (label, host) =>
      startLabNode(lab, host, {
        label,
        supernode: 'off',
        name: label,
        bootstrap: boot,
        logLevel: 'warn',
      })
    const [alice, bob] = await Promise.all([
      client('alice', lab.sites[0].hosts[0]),
      client('bob', lab.sites[1].hosts[0]),
    ])
    await waitUntil('bob pins alice', () => bob.api('contactAdd', { name: 'alice' }), 120_000)
    await waitUntil('alice finds bob', () => alice.api('lookup', { name: 'bob' }), 120_000)
    await bob.api('settingsUpdate', { files: { autoAcceptMiB: sizeMiB + 1, maxMiB: sizeMiB + 1 } })
    const file = join(lab.tempDir('kaiwa-bench-files-'), 'relayed.bin')
    await randomFile(file, sizeMiB * MiB)
    const relayed0 = (await sn.api('usage')).bytesRelayed
    say(`relayed: alice sends ${sizeMiB} MiB to bob`)
    const nodes = { alice, bob, supernode: sn }
    const cpu0 = await cpuOf(nodes)
    const t0 = performance.now()
    const { transfer } = await alice.api('sendFile', { to: 'bob', path: file })
    let sendingAt
    for (;;) {
      const t = (await alice.api('transfers')).transfers.find((x) => x.id === transfer.id)
      if (t.status === 'sending' && sendingAt == null) sendingAt = performance.now()
      if (t.status === 'complete') break
      if (['failed', 'declined', 'cancelled', 'mailed'].includes(t.status))
        throw new Error(`relayed transfer ${t.status}: ${t.note}`)
      if (performance.now() - t0 > 600_000)
        throw new Error(`relayed transfer stuck: ${t.status} ${t.note}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const t1 = performance.now()
    const cpu1 = await cpuOf(nodes)
    const got = (await bob.api('files')).files.find((f) => f.id === transfer.id)
    if (got == null || got.sha256 !== transfer.sha256)
      throw new Error('bob does not list the relayed file with its SHA-256')
    const turnMiB = ((await sn.api('usage')).bytesRelayed - relayed0) / MiB
    if (turnMiB < sizeMiB)
      throw new Error(
        `the supernode relayed ${turnMiB.toFixed(1)} MiB, less than the file: not via TURN`,
      )
    return {
      sizeMiB,
      transferMiBps: Number((sizeMiB / ((t1 - (sendingAt ?? t0)) / 1000)).toFixed(1)),
      endToEndMiBps: Number((sizeMiB / ((t1 - t0) / 1000)).toFixed(1)),
      // sendFile → the first "sending": hashing the offer, then the direct dials that fail
      // (this is alice's first file to bob) and the TURN dial.
      setupSeconds: Number((((sendingAt ?? t1) - t0) / 1000).toFixed(1)),
      turnRelayedMiB: Math.round(turnMiB),
      allocationKbps,
      // CPU time (user + system) per MiB from sendFile on, the offer's hashing included.
      cpuMsPerMiB: Object.fromEntries(
        Object.keys(nodes).map((k) => [k, Number(((cpu1[k] - cpu0[k]) / sizeMiB).toFixed(1))]),
      ),
    }
  } finally {
    await lab.destroy()
  }
}

/** CPU time (user + system) so far of each node's process, in ms (proc(5), USER_HZ 100). */
async function cpuOf(nodes) {
  const out = {}
  for (const [k, n] of Object.entries(nodes)) {
    const stat = await readFile(`/proc/${n.child.pid}/stat`, 'utf8').catch(() => '')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    out[k] = (Number(f[11] ?? 0) + Number(f[12] ?? 0)) * 10
  }
  return out
}

async function randomFile(path, size) {
  const out = createWriteStream(path)
  for (let left = size; left > 0; left -= MiB) {
    if (!out.write(randomBytes(Math.min(MiB, left)))) await new Promise((r) => out.once('drain', r))
  }
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())))
}
