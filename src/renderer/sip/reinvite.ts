/**
 * One re-INVITE in an established call (RFC 3261 §14): a new offer from the
 * peer connection as it is now (hold state, tracks, directions), resolved
 * with the far end's answer. Re-INVITEs of one call are serialised (§14.1: a
 * UAC must not start one while another is pending), and a 491 Request
 * Pending (both sides re-INVITEd at once) is retried once after the random
 * wait §14.1 asks for: 2.1–4 s for the side that owns the Call-ID (placed the
 * call), 0–2 s for the other.
 */
import type { Session, Web } from 'sip.js'

export class ReinviteError extends Error {
  static override readonly name = 'ReinviteError'
  override readonly name = ReinviteError.name
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`${status} ${reason}`.trim())
  }
}

/** §14.1's retry wait after a 491, ms. */
export function glareWaitMs(ownsCallId: boolean, random = Math.random): number {
  return ownsCallId ? 2100 + Math.floor(random() * 1900) : Math.floor(random() * 2000)
}

function once(session: Session): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    session
      .invite({
        requestDelegate: {
          onAccept: (r) => resolve(r.message.body ?? ''),
          onReject: (r) =>
            reject(new ReinviteError(r.message.statusCode ?? 0, r.message.reasonPhrase ?? '')),
        },
      })
      .catch(reject)
  })
}

export class Reinviter {
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly session: Session,
    private readonly ownsCallId: boolean,
    /** The hold state in force, restored for incoming re-INVITEs when ours fails. */
    private readonly held: () => boolean,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((r) => setTimeout(r, ms)),
  ) {}

  /**
   * Run `prepare` (change tracks, directions) and send a re-INVITE with
   * `hold`, after any earlier one; resolves with the answer's body.
   */
  run(hold: boolean, prepare: () => Promise<void> | void = () => {}): Promise<string> {
    const next = this.queue.then(async () => {
      await prepare()
      // sip.js reads re-INVITE options from here; `hold` makes the offer sendonly (or inactive).
      this.session.sessionDescriptionHandlerOptionsReInvite = {
        hold,
      } as Web.SessionDescriptionHandlerOptions
      try {
        return await once(this.session).catch(async (err: unknown) => {
          if (!(err instanceof ReinviteError) || err.status !== 491) throw err
          await this.sleep(glareWaitMs(this.ownsCallId))
          return once(this.session)
        })
      } catch (err) {
        this.session.sessionDescriptionHandlerOptionsReInvite = {
          hold: this.held(),
        } as Web.SessionDescriptionHandlerOptions
        throw err
      }
    })
    this.queue = next.catch(() => {})
    return next
  }
}
