/**
 * The UI's one way to its node, whichever process hosts it: the Electron
 * preload (`window.kaiwa`, over IPC) or the headless node's token-protected
 * WebSocket. Both implement this interface from the same contract, so screens
 * never know which one they run on.
 */
import type { ApiEvent, ApiInput, ApiMethod, ApiOutput } from './contract.js'

/** A raw-SIP pipe to the node (one SIP message per call); see sip-bridge-protocol.ts. */
export interface SipPipe {
  /** Open (or reopen); rejects if it cannot. */
  open(): Promise<void>
  /** Send one raw SIP message. Throws when the pipe is not open. */
  send(raw: string): void
  /** Every SIP message the node sends; returns an unsubscribe function. */
  onMessage(cb: (raw: string) => void): () => void
  /** The pipe was lost after opening (not after `close()`). */
  onClose(cb: (error: Error) => void): () => void
  close(): void
  readonly isOpen: boolean
}

export interface KaiwaBridge {
  /** Which host this is: Electron's preload or a browser talking to `kaiwa node --ui`. */
  readonly kind: 'electron' | 'web'
  call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>>
  /** Node events; returns an unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void
  /** A new SIP pipe for the UI's user agent. */
  sip(): SipPipe
}

/**
 * What the Electron preload exposes as `window.kaiwa` through contextBridge:
 * plain functions with serialisable arguments (contextBridge cannot pass class
 * instances). The renderer wraps it into a KaiwaBridge. Every argument is
 * validated again in the main process against the contract.
 */
export interface PreloadApi {
  call(method: string, input: unknown): Promise<unknown>
  onEvent(listener: (event: string, data: unknown) => void): () => void
  sipOpen(): Promise<number>
  sipSend(pipe: number, raw: string): void
  onSip(pipe: number, listener: (raw: string) => void): () => void
  onSipClose(pipe: number, listener: (reason: string) => void): () => void
  sipClose(pipe: number): void
  /** Electron-only desktop integration. */
  desktop: {
    /** Ask the main process for microphone permission for the call about to start. */
    callStarting(): Promise<void>
    callEnded(): void
    notify(title: string, body: string): void
    setAutostart(enabled: boolean): Promise<boolean>
    getAutostart(): Promise<boolean>
    versions: Record<string, string>
  }
}

/** IPC channel names, shared by main and preload (an allowlist; nothing else is handled). */
export const IPC = {
  call: 'kaiwa:call',
  event: 'kaiwa:event',
  sipOpen: 'kaiwa:sip-open',
  sipSend: 'kaiwa:sip-send',
  sipMessage: 'kaiwa:sip-message',
  sipClosed: 'kaiwa:sip-closed',
  sipClose: 'kaiwa:sip-close',
  callStarting: 'kaiwa:call-starting',
  callEnded: 'kaiwa:call-ended',
  notify: 'kaiwa:notify',
  autostartGet: 'kaiwa:autostart-get',
  autostartSet: 'kaiwa:autostart-set',
} as const
export type IpcChannel = (typeof IPC)[keyof typeof IPC]
