/**
 * Real SIP phones (sipp) through the gateway and the overlay. A supernode (a
 * `kaiwa node` process, so it can be frozen with SIGSTOP), node A (user alice,
 * gateway PA) and node B (user bob, gateway PB), both with a known
 * --sip-password. sipp registers with digest auth, then:
 *
 *   (a) MESSAGE alice→bob, sent over TCP: bob's sipp UAS answers 200;
 *   (b) a call INVITE/180/200/ACK/BYE from a sipp UAC at A to a sipp UAS at B,
 *       reached at its registered contact;
 *   (c) forking to two registered phones: one answers, the other gets CANCEL;
 *   (d) offline: 202 while B is down, delivered with its original From when B
 *       returns and bob's phone registers;
 *   (e) 480 (bob has no phone), 404 (no such user), 408 (the supernode is
 *       frozen, so the DHT lookup cannot complete).
 *
 * The cases run in order and share the nodes (bob's first phone registers in
 * (a)). Scenarios live in test/fixtures/sipp/; sipp exits non-zero on any
 * failure and its -trace_err log is printed then.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, LOOPBACK, spawnNode, stopAllNodes } from '../../../helpers/cli.js'
// The supernode is a real `kaiwa node` (default stamp difficulty): the in-process nodes match it.
import { CLAIM_POW_BITS } from '../../../../src/shared/records/claim-pow.js'
import type { NodeProcess } from '../../../helpers/cli.js'
import { dhtServers, freePort, startTestNode, tempDir, waitFor } from '../../../helpers/nodes.js'
import { explain, killAllSipp, runSipp, startSipp } from '../../../helpers/sipp.js'
import type { SippOptions, SippRun } from '../../../helpers/sipp.js'
import type { KaiwaNode } from '../../../../src/main/kaiwa-node.js'

const ALICE_PW = 'alice-phone-secret'
const BOB_PW = 'bob-phone-secret'

let home: string
let sn: NodeProcess
let snAddr: string
let a: KaiwaNode
let b: KaiwaNode
let PA: number
let PB: number
/** bob's two phones (sipp UASes) listen here. */
let U1: number
let U2: number

const at = (port: number): string => `127.0.0.1:${port}`
const asAlice = { user: 'alice', password: ALICE_PW }
const asBob = { user: 'bob', password: BOB_PW }

function expectOk(run: SippRun): void {
  expect(run.code, explain(run)).toBe(0)
}

/** Register bob's phone listening on `port` at node B (over UDP). */
async function registerBob(port: number): Promise<void> {
  expectOk(
    await runSipp({
      scenario: 'register.xml',
      remote: at(PB),
      service: 'bob',
      auth: asBob,
      keys: { contact_port: port, expires: 600 },
    }),
  )
}

/** Run a UAS (started first, so it listens) and a UAC; both must succeed. */
async function call(uas: SippOptions[], uac: SippOptions): Promise<void> {
  const phones = await Promise.all(uas.map((o) => startSipp(o)))
  const caller = await runSipp(uac)
  expectOk(caller)
  for (const p of phones) expectOk(await p.done)
}

describe('sipp phones through the SIP gateway and the overlay', () => {
  beforeAll(async () => {
    await assertBuilt()
    home = await tempDir('kaiwa-sipp-')
    sn = await spawnNode(['--data', join(home, 'sn'), '--supernode', 'on', ...LOOPBACK], home)
    snAddr = sn.ready.addrs[0]!
    expect(sn.ready.sip).toBeUndefined() // --sip-port 0: no gateway
    ;[PA, PB, U1, U2] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
    a = await startTestNode({
      claimPowBits: CLAIM_POW_BITS,
      bootstrap: [snAddr],
      name: 'alice',
      sipPort: PA,
      sipPassword: ALICE_PW,
    })
    b = await startTestNode({
      claimPowBits: CLAIM_POW_BITS,
      bootstrap: [snAddr],
      name: 'bob',
      sipPort: PB,
      sipPassword: BOB_PW,
    })
    await waitFor(
      () => dhtServers(a) > 0 && dhtServers(b) > 0,
      15_000,
      'A and B to see the supernode',
    )
  }, 90_000)

  afterAll(async () => {
    killAllSipp()
    await Promise.allSettled([a?.stop(), b?.stop()])
    sn?.child.kill('SIGCONT')
    await stopAllNodes()
    if (home != null) await rm(home, { recursive: true, force: true })
  })

  it('registers alice over TCP with digest auth; a wrong password or a foreign AOR is refused', async () => {
    const port = await freePort()
    expectOk(
      await runSipp({
        scenario: 'register.xml',
        remote: at(PA),
        transport: 't1',
        port,
        service: 'alice',
        auth: asAlice,
        keys: { contact_port: port, expires: 600 },
      }),
    )
    const wrong = await runSipp({
      scenario: 'register.xml',
      remote: at(PA),
      service: 'alice',
      auth: { user: 'alice', password: 'guess' },
      keys: { contact_port: 9, expires: 600 },
      timeoutS: 5,
    })
    expect(wrong.code, explain(wrong)).not.toBe(0)
    expect(wrong.errors).toMatch(/401/) // challenged again, never 200
    // Authenticated as alice, but asking for bob's AOR at alice's node (RFC 3261 §10.3 step 3).
    const foreign = await runSipp({
      scenario: 'register.xml',
      remote: at(PA),
      service: 'bob',
      auth: asAlice,
      keys: { contact_port: 9, expires: 600 },
      timeoutS: 5,
    })
    expect(foreign.code, explain(foreign)).not.toBe(0)
    expect(foreign.errors).toMatch(/403/)
  })

  it('(e) answers 480 to a call for bob while no phone of bob is registered', async () => {
    expectOk(
      await runSipp({
        scenario: 'invite-uac-480.xml',
        remote: at(PA),
        service: 'bob',
        auth: asAlice,
      }),
    )
  })

  it('(a) delivers a MESSAGE from alice (over TCP) to bob’s phone, which answers 200', async () => {
    await registerBob(U1)
    await call([{ scenario: 'message-uas.xml', port: U1 }], {
      scenario: 'message-uac.xml',
      remote: at(PA),
      transport: 't1',
      service: 'bob',
      auth: asAlice,
    })
  })

  it('(b) sets up and tears down a call: INVITE/180/200/ACK/BYE', async () => {
    await call([{ scenario: 'call-uas.xml', port: U1 }], {
      scenario: 'call-uac.xml',
      remote: at(PA),
      service: 'bob',
      auth: asAlice,
    })
  })

  it('(c) forks to bob’s two phones: one answers, the other is CANCELled', async () => {
    await registerBob(U2)
    await call(
      [
        { scenario: 'call-uas.xml', port: U1 },
        { scenario: 'ring-uas.xml', port: U2 },
      ],
      { scenario: 'call-uac.xml', remote: at(PA), service: 'bob', auth: asAlice },
    )
  })

  it('(e) answers 404 for a user nobody claimed', async () => {
    expectOk(
      await runSipp({
        scenario: 'message-uac-404.xml',
        remote: at(PA),
        service: 'nobody-here',
        auth: asAlice,
      }),
    )
  })

  it('(d) stores a MESSAGE while B is down (202) and delivers it, From intact, when bob returns', async () => {
    const bobDir = b.dataDir
    await b.stop()
    expectOk(
      await runSipp({
        scenario: 'message-uac-202.xml',
        remote: at(PA),
        service: 'bob',
        auth: asAlice,
      }),
    )
    const phone = await startSipp({ scenario: 'message-uas.xml', port: U1, timeoutS: 30 })
    // B comes back on its own first, so that bob's phone is registered before the
    // mailbox is collected (otherwise the node itself would take the message).
    b = await startTestNode({
      claimPowBits: CLAIM_POW_BITS,
      dataDir: bobDir,
      sipPort: PB,
      sipPassword: BOB_PW,
    })
    await registerBob(U1)
    await b.libp2p().dial(multiaddr(snAddr))
    await waitFor(() => dhtServers(b) > 0, 15_000, 'B to see the supernode again')
    await b.sip.collectOfflineMail()
    expectOk(await phone.done)
  })

  it('(e) answers 408 when the DHT lookup cannot complete (supernode frozen)', async () => {
    sn.child.kill('SIGSTOP')
    try {
      expectOk(
        await runSipp({
          scenario: 'message-uac-408.xml',
          remote: at(PA),
          service: 'zed-never-claimed',
          auth: asAlice,
          timeoutS: 25,
        }),
      )
    } finally {
      sn.child.kill('SIGCONT')
    }
  }, 40_000)
})
