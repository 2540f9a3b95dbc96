/**
 * A sip.js Transport over the SIP bridge to the node (a SipBridgeChannel),
 * following sip.js's Transport contract (api/transport.d.ts) as its own
 * WebSocket transport does:
 *
 *     Disconnected -> Connecting -> Connected -> Disconnecting -> Disconnected
 *          ^______________|  ^__________|___________|  (connect() while disconnecting)
 *
 * - "Connecting" is entered only by `connect()`, "Disconnecting" only by
 *   `disconnect()`; `onConnect` runs on entering "Connected", `onDisconnect`
 *   on leaving it, with an Error unless `disconnect()` asked for it.
 * - A lost channel goes to "Disconnected" (with an Error). There is no
 *   automatic reconnection: recovery belongs to the application.
 * - Calling `connect()`/`disconnect()` synchronously from a state-change
 *   callback is a loop and rejects with StateTransitionError.
 *
 * `protocol` (the Via transport) is "TCP": the bridge is reliable and ordered,
 * and the node routes by transaction, not by the Via's transport.
 */
import { StateTransitionError, TransportState } from 'sip.js'
import type { Emitter, Transport } from 'sip.js'
import type { SipBridgeChannel } from './bridge-channel.js'

export type { SipBridgeChannel } from './bridge-channel.js'
export { createWebSocketChannel } from './bridge-channel.js'

export interface OverlayTransportOptions {
  channel: SipBridgeChannel
  /** Via sent-protocol transport (default "TCP"). */
  protocol?: string
}

/** The part of sip.js's Logger the transport uses. */
export interface TransportLogger {
  error(message: string): void
  warn(message: string): void
  debug(message: string): void
}

/** A minimal Emitter (sip.js's own EmitterImpl is internal to it). */
class StateEmitter<T> implements Emitter<T> {
  private listeners: Array<(data: T) => void> = []

  addListener(listener: (data: T) => void, options?: { once?: boolean }): void {
    if (options?.once !== true) {
      this.listeners.push(listener)
      return
    }
    const once = (data: T): void => {
      this.removeListener(once)
      listener(data)
    }
    this.listeners.push(once)
  }
  removeListener(listener: (data: T) => void): void {
    this.listeners = this.listeners.filter((l) => l !== listener)
  }
  on(listener: (data: T) => void): void {
    this.addListener(listener)
  }
  off(listener: (data: T) => void): void {
    this.removeListener(listener)
  }
  once(listener: (data: T) => void): void {
    this.addListener(listener, { once: true })
  }
  emit(data: T, onError: (err: unknown) => void): void {
    for (const l of this.listeners.slice()) {
      try {
        l(data)
      } catch (err) {
        onError(err)
      }
    }
  }
}

interface Deferred {
  promise: Promise<void>
  resolve: () => void
  reject: (err: Error) => void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

const KEEPALIVE = /^(?:\r\n)+$/

export class OverlayTransport implements Transport {
  readonly protocol: string
  onConnect: (() => void) | undefined
  onDisconnect: ((error?: Error) => void) | undefined
  onMessage: ((message: string) => void) | undefined

  private _state: TransportState = TransportState.Disconnected
  private readonly emitter = new StateEmitter<TransportState>()
  private transitioning = false
  private connecting: Deferred | undefined
  private disconnecting: Deferred | undefined
  /** Bumped on every connect/disconnect, so a stale channel outcome is ignored. */
  private attempt = 0
  private readonly channel: SipBridgeChannel
  private readonly unsubscribe: Array<() => void>

  /** sip.js calls `new transportConstructor(logger, transportOptions)`. */
  constructor(
    private readonly logger: TransportLogger,
    options: OverlayTransportOptions,
  ) {
    this.channel = options.channel
    this.protocol = options.protocol ?? 'TCP'
    this.unsubscribe = [
      this.channel.onMessage((raw) => this.received(raw)),
      this.channel.onClose((err) => this.lost(err)),
    ]
  }

  get state(): TransportState {
    return this._state
  }

  get stateChange(): Emitter<TransportState> {
    return this.emitter
  }

  isConnected(): boolean {
    return this._state === TransportState.Connected
  }

  connect(): Promise<void> {
    switch (this._state) {
      case TransportState.Connecting:
        if (this.transitioning) return Promise.reject(this.loop(TransportState.Connecting))
        return this.connecting!.promise
      case TransportState.Connected:
        if (this.transitioning) return Promise.reject(this.loop(TransportState.Connecting))
        return Promise.resolve()
      default: {
        const d = deferred()
        try {
          this.transition(TransportState.Connecting, undefined, () => (this.connecting = d))
        } catch (err) {
          return Promise.reject(err instanceof Error ? err : new Error(String(err)))
        }
        const attempt = ++this.attempt
        Promise.resolve()
          .then(() => this.channel.connect())
          .then(
            () => {
              if (attempt === this.attempt && this._state === TransportState.Connecting)
                this.transition(TransportState.Connected)
            },
            (err: unknown) => {
              if (attempt === this.attempt && this._state === TransportState.Connecting) {
                const error = err instanceof Error ? err : new Error(String(err))
                this.transition(TransportState.Disconnected, error)
              }
            },
          )
          .catch((err: unknown) => this.logger.error(`transport: ${String(err)}`))
        return d.promise
      }
    }
  }

  disconnect(): Promise<void> {
    switch (this._state) {
      case TransportState.Disconnecting:
        if (this.transitioning) return Promise.reject(this.loop(TransportState.Disconnecting))
        return this.disconnecting!.promise
      case TransportState.Disconnected:
        if (this.transitioning) return Promise.reject(this.loop(TransportState.Disconnecting))
        return Promise.resolve()
      default: {
        const d = deferred()
        try {
          this.transition(TransportState.Disconnecting, undefined, () => (this.disconnecting = d))
        } catch (err) {
          return Promise.reject(err instanceof Error ? err : new Error(String(err)))
        }
        const attempt = ++this.attempt
        try {
          this.channel.close()
        } catch (err) {
          this.logger.warn(`transport: closing the channel failed: ${String(err)}`)
        }
        // Closing is local and immediate; finish on a later tick, never inside disconnect().
        void Promise.resolve().then(() => {
          if (attempt === this.attempt && this._state === TransportState.Disconnecting)
            this.transition(TransportState.Disconnected)
        })
        return d.promise
      }
    }
  }

  async dispose(): Promise<void> {
    try {
      await this.disconnect()
    } finally {
      for (const off of this.unsubscribe.splice(0)) off()
    }
  }

  send(message: string): Promise<void> {
    if (this._state !== TransportState.Connected) return Promise.reject(new Error('Not connected.'))
    try {
      this.channel.send(message)
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
    return Promise.resolve()
  }

  private received(raw: string): void {
    if (KEEPALIVE.test(raw)) return
    if (this._state !== TransportState.Connected) {
      this.logger.warn('transport: message received while not connected; discarded')
      return
    }
    try {
      this.onMessage?.(raw)
    } catch (err) {
      this.logger.error(`transport: onMessage failed: ${String(err)}`)
    }
  }

  /** The channel dropped after opening: network lost, node stopped. */
  private lost(error: Error): void {
    if (this._state !== TransportState.Connected && this._state !== TransportState.Connecting)
      return
    this.attempt++
    try {
      this.transition(TransportState.Disconnected, error)
    } catch (err) {
      // Only a loop can land here (a channel closed from inside a state-change callback).
      this.logger.error(`transport: ${String(err)}`)
    }
  }

  private loop(to: TransportState): StateTransitionError {
    const message =
      `transport: a state transition loop (${this._state} to ${to} before the last transition ` +
      'completed); do not call connect() or disconnect() synchronously from a callback'
    this.logger.error(message)
    return new StateTransitionError('Loop detected.')
  }

  /**
   * The one place state changes, as sip.js's transport does it: validate, set,
   * emit, run onConnect/onDisconnect, then settle the connect/disconnect promise.
   * `setup` runs after validation, before anyone hears of the new state.
   */
  private transition(to: TransportState, error?: Error, setup?: () => void): void {
    if (this.transitioning) throw this.loop(to)
    const from = this._state
    const allowed: Record<TransportState, TransportState[]> = {
      [TransportState.Connecting]: [
        TransportState.Connected,
        TransportState.Disconnecting,
        TransportState.Disconnected,
      ],
      [TransportState.Connected]: [TransportState.Disconnecting, TransportState.Disconnected],
      [TransportState.Disconnecting]: [TransportState.Connecting, TransportState.Disconnected],
      [TransportState.Disconnected]: [TransportState.Connecting],
    }
    if (!allowed[from].includes(to))
      throw new Error(`Invalid state transition from ${from} to ${to}`)
    this.transitioning = true
    try {
      const connecting = from === TransportState.Connecting ? this.connecting : undefined
      const disconnecting = from === TransportState.Disconnecting ? this.disconnecting : undefined
      if (connecting) this.connecting = undefined
      if (disconnecting) this.disconnecting = undefined
      this._state = to
      setup?.()
      this.logger.debug(`transport: ${from} -> ${to}`)
      const report = (what: string) => (err: unknown) =>
        this.logger.error(`transport: ${what} failed: ${String(err)}`)
      this.emitter.emit(to, report('a stateChange listener'))
      if (to === TransportState.Connected) {
        try {
          this.onConnect?.()
        } catch (err) {
          report('onConnect')(err)
        }
      }
      if (from === TransportState.Connected) {
        try {
          if (error) this.onDisconnect?.(error)
          else this.onDisconnect?.()
        } catch (err) {
          report('onDisconnect')(err)
        }
      }
      if (connecting) {
        if (to === TransportState.Connected) connecting.resolve()
        else connecting.reject(error ?? new Error('Connect aborted.'))
      }
      if (disconnecting) {
        if (to === TransportState.Disconnected) disconnecting.resolve()
        else disconnecting.reject(error ?? new Error('Disconnect aborted.'))
      }
    } finally {
      this.transitioning = false
    }
  }
}
