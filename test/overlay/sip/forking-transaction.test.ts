/**
 * ForkingTransaction on its own: in-memory branches that record what they are
 * sent, answered by the test, and fake timers for Timer C / Timer F. Covers
 * RFC 3261 §16.7 (response context, best-response selection, 2xx handling),
 * §16.8 (Timer C), §9.1 (when a CANCEL may be sent) and §16.10 (CANCEL of
 * pending branches).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ForkingTransaction } from '../../../src/overlay/sip/forking-transaction.js'
import type { ForkTarget } from '../../../src/overlay/sip/forking-transaction.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import { respond } from '../../../src/shared/sip/responses.js'
import type { SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'
import { silentLogger } from '../../helpers/logger.js'

/** Let queued promise callbacks (branch send failures, the async fallback) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r))

interface Harness {
  tx: ForkingTransaction
  request: SipRequest
  /** What went upstream, in order. */
  upstream: SipResponse[]
  /** What each branch was sent, in order. */
  sent: Map<string, SipRequest[]>
  finals: number[]
  done: () => number
  /** A response from branch `id` as its UA would build it. */
  answer: (id: string, status: number, reason?: string, extra?: Array<[string, string]>) => void
}

function harness(
  ids: string[],
  opts: {
    method?: string
    unreachable?: string[]
    fallback?: () => Promise<SipResponse>
    timeoutMs?: number
  } = {},
): Harness {
  const request = buildRequest({
    method: opts.method ?? 'INVITE',
    uri: 'sip:bob@kaiwa',
    from: 'sip:alice@kaiwa',
  })
  const upstream: SipResponse[] = []
  const sent = new Map<string, SipRequest[]>()
  const finals: number[] = []
  let doneCount = 0
  const targets: ForkTarget[] = ids.map((id) => {
    sent.set(id, [])
    return {
      id,
      send: async (req) => {
        if (opts.unreachable?.includes(id)) throw new Error(`no route to ${id}`)
        sent.get(id)!.push(req)
      },
    }
  })
  const tx = new ForkingTransaction({
    request,
    targets,
    upstream: (res) => upstream.push(res),
    onAllUnreachable:
      opts.fallback ?? (async () => respond(request, 480, 'Temporarily Unavailable')),
    onFinal: (status) => finals.push(status),
    onDone: () => doneCount++,
    log: silentLogger,
    ...(opts.timeoutMs != null ? { timeoutMs: opts.timeoutMs } : {}),
  })
  const answer: Harness['answer'] = (id, status, reason = 'Reason', extra = []) =>
    tx.onBranchResponse(respond(request, status, reason, extra), id)
  return { tx, request, upstream, sent, finals, done: () => doneCount, answer }
}

const statuses = (rs: SipResponse[]): number[] => rs.map((r) => r.status)
const methods = (rs: SipRequest[] | undefined): string[] => (rs ?? []).map((r) => r.method)

afterEach(() => {
  vi.useRealTimers()
})

describe('ForkingTransaction: forking (RFC 3261 §16.6)', () => {
  it('sends the request to every branch in parallel', () => {
    const h = harness(['a', 'b', 'c'])
    h.tx.start()
    for (const id of ['a', 'b', 'c']) expect(h.sent.get(id)).toEqual([h.request])
    expect(h.upstream).toEqual([])
  })

  it('with no branch at all, answers with the fallback at once', async () => {
    const h = harness([])
    h.tx.start()
    await settle()
    expect(statuses(h.upstream)).toEqual([480])
    expect(h.finals).toEqual([480])
  })

  it('answers with the fallback (e.g. 202 stored) when every branch is unreachable', async () => {
    const h = harness(['a', 'b'], {
      method: 'MESSAGE',
      unreachable: ['a', 'b'],
      fallback: async () => respond(h.request, 202, 'Stored for later delivery'),
    })
    h.tx.start()
    await settle()
    expect(statuses(h.upstream)).toEqual([202])
    expect(h.finals).toEqual([202])
    expect(h.done()).toBe(1)
  })

  it('answers 480 when the fallback itself fails', async () => {
    const h = harness(['a'], {
      unreachable: ['a'],
      fallback: () => Promise.reject(new Error('mailbox down')),
    })
    h.tx.start()
    await settle()
    expect(statuses(h.upstream)).toEqual([480])
  })

  it('an unreachable branch does not count as a response when another branch answers', async () => {
    const h = harness(['a', 'b'], { unreachable: ['a'] })
    h.tx.start()
    await settle()
    expect(h.upstream).toEqual([])
    h.answer('b', 486, 'Busy Here')
    expect(statuses(h.upstream)).toEqual([486])
  })
})

describe('ForkingTransaction: provisional responses (RFC 3261 §16.7 step 5)', () => {
  it('forwards 18x upstream but not 100 Trying, which is hop-by-hop (§16.7 step 3)', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.answer('a', 100, 'Trying')
    h.answer('a', 180, 'Ringing')
    h.answer('b', 183, 'Session Progress')
    expect(statuses(h.upstream)).toEqual([180, 183])
  })

  it('does not forward provisional responses after the final one', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.answer('a', 200, 'OK')
    h.answer('b', 180, 'Ringing')
    expect(statuses(h.upstream)).toEqual([200])
  })
})

describe('ForkingTransaction: best final response (RFC 3261 §16.7 step 6)', () => {
  it('waits for every branch, then sends the lowest class (3xx over 4xx over 5xx)', () => {
    const h = harness(['a', 'b', 'c'], { method: 'MESSAGE' })
    h.tx.start()
    h.answer('a', 500, 'Server Internal Error')
    h.answer('b', 404, 'Not Found')
    expect(h.upstream).toEqual([])
    h.answer('c', 302, 'Moved Temporarily')
    expect(statuses(h.upstream)).toEqual([302])
    expect(h.finals).toEqual([302])
    expect(h.done()).toBe(1)
  })

  it('within a class, sends the first one received', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.answer('a', 486, 'Busy Here')
    h.answer('b', 404, 'Not Found')
    expect(h.upstream.map((r) => r.reason)).toEqual(['Busy Here'])
  })

  it('a 6xx ends the fork at once and CANCELs the pending branches (§16.7 step 5, §16.10)', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.answer('b', 180, 'Ringing')
    h.answer('a', 603, 'Decline')
    expect(statuses(h.upstream)).toEqual([180, 603])
    expect(methods(h.sent.get('b'))).toEqual(['INVITE', 'CANCEL'])
    // The CANCELled branch's 487 is not forwarded: the 6xx already went.
    h.answer('b', 487, 'Request Terminated')
    expect(statuses(h.upstream)).toEqual([180, 603])
  })

  it('a 6xx wins over 4xx answers received before it', () => {
    const h = harness(['a', 'b', 'c'])
    h.tx.start()
    h.answer('a', 404, 'Not Found')
    h.answer('b', 600, 'Busy Everywhere')
    expect(statuses(h.upstream)).toEqual([600])
  })

  it('a 401 challenge reaches the UAC with its WWW-Authenticate unchanged (§16.7 step 7)', () => {
    const challenge = 'Digest realm="kaiwa", nonce="abc", qop="auth"'
    const h2 = harness(['a'], { method: 'MESSAGE' })
    h2.tx.start()
    h2.answer('a', 401, 'Unauthorized', [['WWW-Authenticate', challenge]])
    expect(h2.upstream[0]!.headers.get('www-authenticate')).toBe(challenge)
  })

  it('a lone 503 goes upstream as a 500: the proxy itself is not unavailable (§16.7 step 6)', () => {
    const h = harness(['a'], { method: 'MESSAGE' })
    h.tx.start()
    h.answer('a', 503, 'Service Unavailable', [['Retry-After', '5']])
    expect(statuses(h.upstream)).toEqual([500])
    expect(h.upstream[0]!.headers.has('retry-after')).toBe(false)
    expect(h.finals).toEqual([500])
  })

  it('a repeated final from the same branch is not counted twice', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.answer('a', 486, 'Busy Here')
    h.answer('a', 486, 'Busy Here')
    expect(h.upstream).toEqual([])
    h.answer('b', 404, 'Not Found')
    expect(statuses(h.upstream)).toEqual([486])
  })
})

describe('ForkingTransaction: 2xx responses (RFC 3261 §16.7 steps 5 and 10)', () => {
  it('the first 2xx goes upstream at once and CANCELs the branches still ringing', () => {
    const h = harness(['a', 'b', 'c'])
    h.tx.start()
    h.answer('b', 180, 'Ringing')
    h.answer('c', 180, 'Ringing')
    h.answer('a', 200, 'OK')
    expect(statuses(h.upstream)).toEqual([180, 180, 200])
    expect(h.tx.answered2xx).toBe(true)
    expect(h.finals).toEqual([200])
    expect(methods(h.sent.get('a'))).toEqual(['INVITE'])
    for (const id of ['b', 'c']) {
      const cancel = h.sent.get(id)![1]!
      expect(cancel.method).toBe('CANCEL')
      // §9.1: same Request-URI, Call-ID, CSeq number and top Via as the INVITE.
      expect(cancel.uri).toBe(h.request.uri)
      expect(cancel.headers.get('call-id')).toBe(h.request.headers.get('call-id'))
      expect(cancel.headers.get('cseq')).toBe(
        h.request.headers.get('cseq')!.replace('INVITE', 'CANCEL'),
      )
      expect(cancel.headers.get('via')).toBe(h.request.headers.get('via'))
    }
  })

  it('a late 2xx from another branch is forwarded too: the UAC must ACK and BYE it (§16.7 step 5)', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.answer('a', 200, 'OK')
    h.answer('b', 200, 'OK')
    expect(statuses(h.upstream)).toEqual([200, 200])
    expect(h.finals).toEqual([200])
  })

  it('a 2xx after a 6xx is still forwarded (§16.7 step 5: 2xx are always forwarded)', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.answer('a', 603, 'Decline')
    h.answer('b', 200, 'OK')
    expect(statuses(h.upstream)).toEqual([603, 200])
  })

  it('a 2xx from a branch it did not fork to is forwarded for INVITE only', () => {
    const invite = harness(['a'])
    invite.tx.start()
    invite.tx.onBranchResponse(respond(invite.request, 200, 'OK'), 'stranger')
    invite.tx.onBranchResponse(respond(invite.request, 486, 'Busy Here'), 'stranger')
    expect(statuses(invite.upstream)).toEqual([200])
    const message = harness(['a'], { method: 'MESSAGE' })
    message.tx.start()
    message.tx.onBranchResponse(respond(message.request, 200, 'OK'), 'stranger')
    expect(message.upstream).toEqual([])
  })

  it('a non-INVITE request sends only one final upstream, and nothing is CANCELled', () => {
    const h = harness(['a', 'b'], { method: 'MESSAGE' })
    h.tx.start()
    h.answer('a', 200, 'OK')
    h.answer('b', 200, 'OK')
    expect(statuses(h.upstream)).toEqual([200])
    expect(methods(h.sent.get('b'))).toEqual(['MESSAGE'])
    expect(h.done()).toBe(1)
  })

  it('an INVITE lingers after its final (64*T1) to match late 2xx and ACKs, then is done', () => {
    vi.useFakeTimers()
    const h = harness(['a'])
    h.tx.start()
    h.answer('a', 200, 'OK')
    expect(h.done()).toBe(0)
    vi.advanceTimersByTime(32_000)
    expect(h.done()).toBe(1)
  })
})

describe('ForkingTransaction: CANCEL (RFC 3261 §9.1, §16.10)', () => {
  it('the UAC’s CANCEL reaches every branch still pending, and their 487 goes upstream', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.answer('a', 180, 'Ringing')
    h.answer('b', 180, 'Ringing')
    h.tx.cancel(h.request)
    expect(methods(h.sent.get('a'))).toEqual(['INVITE', 'CANCEL'])
    expect(methods(h.sent.get('b'))).toEqual(['INVITE', 'CANCEL'])
    h.answer('a', 487, 'Request Terminated')
    h.answer('b', 487, 'Request Terminated')
    expect(statuses(h.upstream)).toEqual([180, 180, 487])
  })

  it('no CANCEL goes to a branch before its first provisional response; it follows that response (§9.1)', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.answer('a', 200, 'OK')
    // b has said nothing yet: the INVITE may not even have reached its UA.
    expect(methods(h.sent.get('b'))).toEqual(['INVITE'])
    h.answer('b', 180, 'Ringing')
    expect(methods(h.sent.get('b'))).toEqual(['INVITE', 'CANCEL'])
    expect(statuses(h.upstream)).toEqual([200])
  })

  it('a branch that answers finally before any provisional is never CANCELled', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.tx.cancel(h.request)
    h.answer('a', 486, 'Busy Here')
    h.answer('b', 100, 'Trying')
    expect(methods(h.sent.get('a'))).toEqual(['INVITE'])
    expect(methods(h.sent.get('b'))).toEqual(['INVITE', 'CANCEL'])
  })

  it('a non-INVITE request is never CANCELled (§9.1)', () => {
    const h = harness(['a'], { method: 'MESSAGE' })
    h.tx.start()
    h.tx.cancel(h.request)
    expect(methods(h.sent.get('a'))).toEqual(['MESSAGE'])
  })

  it('the ACK for a non-2xx final goes to the branches that answered finally', () => {
    const h = harness(['a', 'b'])
    h.tx.start()
    h.answer('a', 486, 'Busy Here')
    h.answer('b', 404, 'Not Found')
    const ack = { ...h.request, method: 'ACK' }
    h.tx.forwardAck(ack)
    expect(methods(h.sent.get('a'))).toEqual(['INVITE', 'ACK'])
    expect(methods(h.sent.get('b'))).toEqual(['INVITE', 'ACK'])
  })
})

describe('ForkingTransaction: timeouts (RFC 3261 §16.8 Timer C, Timer F)', () => {
  it('answers 408 when no branch answers in time, CANCELling the ringing ones', () => {
    vi.useFakeTimers()
    const h = harness(['a', 'b'], { timeoutMs: 1000 })
    h.tx.start()
    h.answer('a', 180, 'Ringing')
    vi.advanceTimersByTime(999)
    expect(statuses(h.upstream)).toEqual([180])
    vi.advanceTimersByTime(1)
    expect(statuses(h.upstream)).toEqual([180, 408])
    expect(h.finals).toEqual([408])
    expect(methods(h.sent.get('a'))).toEqual(['INVITE', 'CANCEL'])
    // b never sent a provisional response: it counts as a 408 and gets no CANCEL (§16.8).
    expect(methods(h.sent.get('b'))).toEqual(['INVITE'])
  })

  it('defaults to Timer C (180 s) for INVITE and Timer F (32 s) for other requests', () => {
    vi.useFakeTimers()
    const invite = harness(['a'])
    const message = harness(['a'], { method: 'MESSAGE' })
    invite.tx.start()
    message.tx.start()
    vi.advanceTimersByTime(32_000)
    expect(statuses(message.upstream)).toEqual([408])
    expect(invite.upstream).toEqual([])
    vi.advanceTimersByTime(148_000)
    expect(statuses(invite.upstream)).toEqual([408])
  })

  it('on timeout, a final already received from another branch competes with the 408 (§16.7 step 6)', () => {
    vi.useFakeTimers()
    const h = harness(['a', 'b'], { timeoutMs: 1000 })
    h.tx.start()
    h.answer('a', 302, 'Moved Temporarily')
    vi.advanceTimersByTime(1000)
    expect(statuses(h.upstream)).toEqual([302])
    const busy = harness(['a', 'b'], { timeoutMs: 1000 })
    busy.tx.start()
    busy.answer('a', 486, 'Busy Here')
    vi.advanceTimersByTime(1000)
    // Same class: the first received wins; "busy" says more than "timeout".
    expect(statuses(busy.upstream)).toEqual([486])
  })

  it('sends nothing more once a final response went upstream', () => {
    vi.useFakeTimers()
    const h = harness(['a'], { method: 'MESSAGE', timeoutMs: 1000 })
    h.tx.start()
    h.answer('a', 200, 'OK')
    vi.advanceTimersByTime(5000)
    expect(statuses(h.upstream)).toEqual([200])
  })
})
