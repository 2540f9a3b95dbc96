/**
 * The group-call signalling of one dialog (see call/group-mesh.ts): the
 * conference header the INVITE carried, and roster updates as in-dialog INFO
 * requests (RFC 6086 §4.2: INFO carries application information within an
 * established dialog). A roster update is an INFO with no body and the
 * X-Kaiwa-Conference header; every other INFO (DTMF from a desk phone) is
 * accepted and ignored, as before.
 */
import type { Info, Session } from 'sip.js'
import { CONFERENCE_HEADER, conferenceHeaderLine, parseConference } from './conference-id.js'
import type { Conference } from './conference-id.js'

/** A call's conference signalling as the rest of the UI sees it (KaiwaCall.conference). */
export interface KaiwaCallConference {
  /** The conference the INVITE named (ours for calls we placed with one, theirs for incoming). */
  readonly invite: Conference | undefined
  /** Send our roster to the other side (an established dialog only). */
  sendRoster(c: Conference): Promise<void>
  /** Roster updates from the other side; returns an unsubscribe function. */
  onRoster(listener: (c: Conference) => void): () => void
}

export class CallConference implements KaiwaCallConference {
  readonly invite: Conference | undefined
  private readonly listeners = new Set<(c: Conference) => void>()

  constructor(
    private readonly session: Session,
    invite: { getHeader?(name: string): string | undefined },
    private readonly log: (text: string) => void,
  ) {
    this.invite = parseConference(invite.getHeader?.(CONFERENCE_HEADER))
  }

  async sendRoster(c: Conference): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const done = (r: { message: { statusCode?: number; reasonPhrase?: string } }): void => {
        const code = r.message.statusCode ?? 0
        if (code >= 200 && code < 300) resolve()
        else reject(new Error(`roster update refused: ${code} ${r.message.reasonPhrase ?? ''}`))
      }
      this.session
        .info({
          requestOptions: { extraHeaders: [conferenceHeaderLine(c)] },
          requestDelegate: { onAccept: done, onReject: done },
        })
        .catch(reject)
    })
  }

  onRoster(listener: (c: Conference) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Every INFO of the dialog comes here (the session's delegate). */
  receive(info: Info): void {
    void info.accept().catch(() => {})
    const header = info.request.getHeader(CONFERENCE_HEADER)
    if (header == null) return
    const c = parseConference(header)
    if (c == null) return this.log(`ignoring a malformed ${CONFERENCE_HEADER}: ${header}`)
    for (const l of [...this.listeners]) l(c)
  }
}
