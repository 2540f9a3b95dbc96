/**
 * A pair's renegotiation that may cross the other side's (two members of a
 * group call turn their cameras on at once): sip.js refuses to start a
 * re-INVITE while one from the far end is in progress, and the far end may
 * answer ours 491 or time out. RFC 3261 §14.1: wait (2.1-4 s for the owner of
 * the Call-ID, 0-2 s otherwise) and try again.
 */
import { glareWaitMs } from '../sip/reinvite.js'

export interface GlareRetryOptions {
  /** We placed the call (own the Call-ID). */
  ownsCallId: boolean
  /** Still worth doing (the group and the wish have not changed). */
  wanted(): boolean
  /** @default 4 */
  attempts?: number
  sleep?: (ms: number) => Promise<void>
}

export async function withGlareRetry(
  run: () => Promise<void>,
  opts: GlareRetryOptions,
): Promise<void> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const attempts = opts.attempts ?? 4
  for (let i = 1; ; i++) {
    try {
      return await run()
    } catch (err) {
      if (i >= attempts || !opts.wanted()) throw err
      await sleep(glareWaitMs(opts.ownsCallId))
      if (!opts.wanted()) throw err
    }
  }
}
