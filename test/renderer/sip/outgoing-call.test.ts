/**
 * An outgoing call's session (SipCall over a scripted sip.js Inviter): the
 * far end's media anchor is read from its 183/200 SDP, and a 488 with a
 * Reason header (RFC 3326) becomes words about the phone's audio formats.
 */
import { SessionState } from 'sip.js'
import type { Inviter } from 'sip.js'
import { describe, expect, it } from 'vitest'
import { describeCallEnd } from '../../../src/renderer/call/call-messages.js'
import { SipCall } from '../../../src/renderer/sip/call-session.js'

interface Delegate {
  onProgress(r: unknown): void
  onAccept(r: unknown): void
  onReject(r: unknown): void
}

/** The parts of an Inviter SipCall touches, driven by the test. */
function scriptedInviter() {
  const listeners: Array<(s: SessionState) => void> = []
  let delegate: Delegate | undefined
  const session = {
    request: { callId: 'out-1@test' },
    remoteIdentity: { uri: { user: 'alice' }, displayName: '' },
    state: SessionState.Initial,
    stateChange: { addListener: (l: (s: SessionState) => void) => listeners.push(l) },
    delegate: undefined as unknown,
    invite(opts: { requestDelegate: Delegate }) {
      delegate = opts.requestDelegate
      return Promise.resolve()
    },
  }
  const to = (state: SessionState) => {
    session.state = state
    for (const l of listeners) l(state)
  }
  const response = (
    statusCode: number,
    reasonPhrase: string,
    body = '',
    reasons: string[] = [],
  ) => ({
    message: {
      statusCode,
      reasonPhrase,
      body,
      getHeaders: (n: string) => (n === 'reason' ? reasons : []),
    },
  })
  return { inviter: session as unknown as Inviter, delegate: () => delegate!, to, response }
}

const ANCHORED = 'v=0\r\ns=-\r\na=x-kaiwa-anchor:phone\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n'
const tick = () => new Promise((r) => setTimeout(r, 0))

describe('outgoing call session', () => {
  it('learns from the 183 and 200 SDP that the far end is anchored at its node', async () => {
    const s = scriptedInviter()
    const call = new SipCall(s.inviter, { setMedia() {}, log() {} })
    call.start({ iceServers: [], audio: {} })
    await tick()
    expect(call.anchor).toBeUndefined()
    s.delegate().onProgress(s.response(183, 'Session Progress', ANCHORED))
    expect([call.phase, call.anchor]).toEqual(['ringing', 'phone'])
    // A 200 without the attribute: end to end after all (e.g. another device answered).
    s.delegate().onAccept(s.response(200, 'OK', ANCHORED.replace('a=x-kaiwa-anchor:phone\r\n', '')))
    expect(call.anchor).toBeUndefined()
    s.delegate().onAccept(s.response(200, 'OK', ANCHORED))
    s.to(SessionState.Established)
    expect([call.phase, call.anchor]).toEqual(['active', 'phone'])
  })

  it('turns a phone’s 488 with a Reason into what the user can do', async () => {
    const s = scriptedInviter()
    const call = new SipCall(s.inviter, { setMedia() {}, log() {} })
    call.start({ iceServers: [], audio: {} })
    await tick()
    // sip.js terminates the session first, then hands the response to the delegate.
    s.to(SessionState.Terminated)
    s.delegate().onReject(
      s.response(488, 'Not Acceptable Here', '', [
        'SIP ;cause=488 ;text="no common codec: phone offers G.729"',
      ]),
    )
    await tick()
    expect(call.end).toEqual({
      outcome: 'failed',
      by: 'remote',
      status: 488,
      reason: 'Not Acceptable Here',
      reasonText: 'no common codec: phone offers G.729',
    })
    expect(describeCallEnd(call.end!, call.peer, call.direction)).toBe(
      "alice's phone can't use this call's audio format (no common codec: phone offers G.729). Ask alice to turn on Opus or G.711 (PCMU/PCMA) in that phone's settings, or to answer in the Kaiwa app.",
    )
  })
})
