/**
 * Kaiwa's own small SIP user-agent interface. The rest of the UI uses this and
 * never imports sip.js (its last release was 2022: keep it replaceable). The
 * UA is a sip.js UserAgent whose transport is the bridge to the node
 * (OverlayTransport over a SipBridgeChannel).
 *
 * The node is the registrar and the proxy: REGISTER binds this UA to the
 * node's own user ID, and the node rewrites outgoing Contacts into overlay
 * GRUUs, so sip.js's random `*.invalid` contact never leaves the node.
 *
 * Calls are WebRTC audio sessions (see media-handler.ts and call-session.ts);
 * the media flows browser to browser, only the signalling crosses the node.
 */
import { Inviter, Messager, Registerer, RegistererState, UserAgent } from 'sip.js'
import type { Core, Invitation, LogLevel, Message, Session, UserAgentOptions } from 'sip.js'
import { DEFAULT_OVERLAY_DOMAIN } from '../../shared/sip/overlay-uri.js'
import { webrtcOfferProblem } from '../../shared/sip/webrtc-offer.js'
import type { SipBridgeChannel } from './bridge-channel.js'
import { SipCall } from './call-session.js'
import type { KaiwaCall } from './call-session.js'
import { createMediaHandlerFactory } from './media-handler.js'
import type { CallMedia } from './media-handler.js'
import { OverlayTransport } from './overlay-transport.js'
import type { OverlayTransportOptions } from './overlay-transport.js'

export interface KaiwaUserAgentOptions {
  channel: SipBridgeChannel
  /** The node's user ID (the AOR is sip:<user>@<domain>). */
  user: string
  /** Overlay domain (default `kaiwa`). */
  domain?: string
  /** For registrars that challenge; the node's own does not. */
  password?: string
  displayName?: string
  /** Registration lifetime asked for, in seconds (default 600; sip.js refreshes it). */
  registerExpires?: number
  /** Where sip.js's own log goes (default: nowhere). */
  log?: (level: LogLevel, text: string) => void
  logLevel?: LogLevel
  /** Longest ICE gathering per offer/answer, ms (default 500: it is call-setup time). */
  iceGatheringTimeoutMs?: number
  /** Runs before the microphone is opened for a call. */
  beforeMedia?: () => Promise<void>
}

/** The final answer to a request: SIP status and reason phrase. */
export interface SipResult {
  status: number
  reason: string
}

export interface IncomingText {
  /** The sender's AOR, e.g. `sip:alice@kaiwa`. */
  from: string
  /** The user part of `from`. */
  fromUser: string
  displayName: string
  text: string
  contentType: string
}

export interface KaiwaUserAgent {
  readonly aor: string
  /** REGISTER with the node; resolves with its final answer (200 when bound). */
  register(): Promise<SipResult>
  unregister(): Promise<SipResult>
  /** MESSAGE to sip:<toUser>@<domain>; resolves with the final answer (200, 202 stored, 404 ...). */
  sendMessage(toUser: string, text: string, contentType?: string): Promise<SipResult>
  /**
   * Incoming MESSAGEs. While at least one listener is subscribed they are
   * accepted (200); with none they are refused (480) so the node keeps them.
   */
  onMessage(cb: (msg: IncomingText) => void): () => void
  /**
   * Call sip:<toUser>@<domain>; the INVITE leaves once ICE gathering is done.
   * `extraHeaders` (whole header lines) go on the INVITE, e.g. a group call's conference.
   */
  call(toUser: string, media: CallMedia, extraHeaders?: string[]): KaiwaCall
  /**
   * Incoming calls, already ringing (180 sent). With no listener they are
   * refused (480) so another device of the user can take them. An offer this
   * app cannot use (not WebRTC, no common codec) is refused with 488 and a
   * Reason before it rings, and reaches listeners already ended, so the user
   * learns who called and why it could not connect.
   */
  onIncomingCall(cb: (call: KaiwaCall) => void): () => void
  /** The bridge to the node was lost (false) or is back (true). */
  onConnectionChange(cb: (connected: boolean, error?: Error) => void): () => void
  /** Reopen the bridge after it was lost (then register() again). */
  reconnect(): Promise<void>
  /** Unregister (if registered), disconnect, and release the user agent. */
  stop(): Promise<void>
}

type IncomingResponse = Core.IncomingResponse
type Answered = { onAccept(r: IncomingResponse): void; onReject(r: IncomingResponse): void }

/** Longer than SIP's Timer F (32 s), after which sip.js reports 408 itself. */
const ANSWER_TIMEOUT_MS = 40_000

const resultOf = (r: IncomingResponse): SipResult => ({
  status: r.message.statusCode ?? 0,
  reason: r.message.reasonPhrase ?? '',
})

/** Create the UA and connect it to the node (rejects if the channel cannot connect). */
export async function createKaiwaUserAgent(opts: KaiwaUserAgentOptions): Promise<KaiwaUserAgent> {
  const domain = opts.domain ?? DEFAULT_OVERLAY_DOMAIN
  const aor = `sip:${opts.user}@${domain}`
  const uri = UserAgent.makeURI(aor)
  if (uri == null) throw new Error(`not a valid SIP address: ${aor}`)
  const listeners = new Set<(msg: IncomingText) => void>()
  const callListeners = new Set<(call: KaiwaCall) => void>()
  const connectionListeners = new Set<(connected: boolean, error?: Error) => void>()
  const mediaBySession = new WeakMap<Session, CallMedia>()
  const log = (text: string): void => opts.log?.('warn', text)
  const callDeps = {
    setMedia: (session: Session, media: CallMedia) => mediaBySession.set(session, media),
    log,
  }
  const notifyConnection = (connected: boolean, error?: Error): void => {
    for (const l of [...connectionListeners]) l(connected, error)
  }
  const transportOptions: OverlayTransportOptions = { channel: opts.channel }
  const options: UserAgentOptions = {
    uri,
    transportConstructor: OverlayTransport,
    transportOptions,
    contactParams: { transport: 'tcp' },
    logBuiltinEnabled: false,
    logLevel: opts.logLevel ?? 'warn',
    logConnector: (level, category, _label, content) =>
      opts.log?.(level, `${category}: ${content}`),
    userAgentString: 'Kaiwa',
    // sip.js would send 180 before onInvite, and incomingCall sends its own: the caller
    // got two. Ours is the one: it goes only once the call can ring (RFC 3261 §13.3.1.1).
    sendInitialProvisionalResponse: false,
    ...(opts.displayName != null ? { displayName: opts.displayName } : {}),
    ...(opts.password != null
      ? { authorizationUsername: opts.user, authorizationPassword: opts.password }
      : {}),
    sessionDescriptionHandlerFactory: createMediaHandlerFactory({
      mediaFor: (session) => mediaBySession.get(session),
      iceGatheringTimeoutMs: opts.iceGatheringTimeoutMs ?? 500,
      ...(opts.beforeMedia ? { beforeMedia: opts.beforeMedia } : {}),
    }),
    delegate: {
      onMessage: (message: Message) => void incoming(message),
      onInvite: (invitation: Invitation) => void incomingCall(invitation),
      onConnect: () => notifyConnection(true),
      onDisconnect: (error?: Error) => notifyConnection(false, error),
    },
  }
  const ua = new UserAgent(options)

  async function incoming(message: Message): Promise<void> {
    const req = message.request
    if (listeners.size === 0) {
      await message.reject({ statusCode: 480 }).catch(() => {})
      return
    }
    const from = req.from.uri
    const msg: IncomingText = {
      from: `sip:${from.user ?? ''}@${from.host}`,
      fromUser: from.user ?? '',
      displayName: req.from.displayName,
      text: req.body,
      contentType: req.getHeader('content-type') ?? 'text/plain',
    }
    await message.accept().catch(() => {})
    for (const l of [...listeners]) {
      try {
        l(msg)
      } catch (err) {
        opts.log?.('error', `onMessage listener failed: ${String(err)}`)
      }
    }
  }

  async function incomingCall(invitation: Invitation): Promise<void> {
    if (callListeners.size === 0) {
      await invitation.reject({ statusCode: 480 }).catch(() => {})
      return
    }
    const call = new SipCall(invitation, callDeps)
    const problem = webrtcOfferProblem(invitation.body)
    if (problem != null) {
      log(`refusing call ${call.id} with 488: ${problem.text}`)
      await call.refuse(problem)
    } else {
      // 180 Ringing, once: the caller hears that this device rings.
      await invitation.progress().catch((err: unknown) => log(`180 failed: ${String(err)}`))
    }
    for (const l of [...callListeners]) {
      try {
        l(call)
      } catch (err) {
        opts.log?.('error', `onIncomingCall listener failed: ${String(err)}`)
      }
    }
  }

  const registerer = new Registerer(ua, { expires: opts.registerExpires ?? 600 })

  /** Settles on the request's final response, or on the registration state it leads to. */
  function registration(
    wanted: RegistererState,
    start: (delegate: Answered) => Promise<unknown>,
  ): Promise<SipResult> {
    return new Promise<SipResult>((resolve, reject) => {
      let settled = false
      const done = (fn: () => void): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        registerer.stateChange.removeListener(onState)
        fn()
      }
      const timer = setTimeout(
        () => done(() => reject(new Error('no answer from the node to REGISTER'))),
        ANSWER_TIMEOUT_MS,
      )
      // sip.js drops some answers without calling the delegate (e.g. a 200 not listing our
      // contact) and retries 423 on its own; the state it ends in settles those. It changes
      // state just before calling the delegate, so the delegate's answer wins.
      const onState = (state: RegistererState): void =>
        queueMicrotask(() =>
          done(() =>
            state === wanted
              ? resolve({ status: 200, reason: 'OK' })
              : reject(new Error(`registration ended in state ${state}`)),
          ),
        )
      registerer.stateChange.addListener(onState)
      const answer = (r: IncomingResponse): void => done(() => resolve(resultOf(r)))
      start({ onAccept: answer, onReject: answer }).catch((err: unknown) =>
        done(() => reject(err instanceof Error ? err : new Error(String(err)))),
      )
    })
  }

  try {
    await ua.start()
  } catch (err) {
    await ua.stop().catch(() => {})
    throw err
  }

  return {
    aor,
    register: () =>
      registration(RegistererState.Registered, (requestDelegate) =>
        registerer.register({ requestDelegate }),
      ),
    unregister: () =>
      registration(RegistererState.Unregistered, (requestDelegate) =>
        registerer.unregister({ requestDelegate }),
      ),
    sendMessage(toUser, text, contentType = 'text/plain;charset=utf-8') {
      const target = UserAgent.makeURI(`sip:${toUser}@${domain}`)
      if (target == null) return Promise.reject(new Error(`not a valid user ID: ${toUser}`))
      return new Promise<SipResult>((resolve, reject) => {
        const answer = (r: IncomingResponse): void => resolve(resultOf(r))
        new Messager(ua, target, text, contentType)
          .message({ requestDelegate: { onAccept: answer, onReject: answer, onRedirect: answer } })
          .catch((err: unknown) => reject(err instanceof Error ? err : new Error(String(err))))
      })
    },
    onMessage(cb) {
      listeners.add(cb)
      return () => listeners.delete(cb)
    },
    call(toUser, media, extraHeaders) {
      const target = UserAgent.makeURI(`sip:${toUser}@${domain}`)
      if (target == null) throw new Error(`not a valid user ID: ${toUser}`)
      const inviter = new Inviter(ua, target, extraHeaders != null ? { extraHeaders } : {})
      const call = new SipCall(inviter, callDeps)
      call.start(media)
      return call
    },
    onIncomingCall(cb) {
      callListeners.add(cb)
      return () => callListeners.delete(cb)
    },
    onConnectionChange(cb) {
      connectionListeners.add(cb)
      return () => connectionListeners.delete(cb)
    },
    reconnect: () => ua.reconnect(),
    async stop() {
      listeners.clear()
      callListeners.clear()
      connectionListeners.clear()
      await ua.stop()
    },
  }
}
