/**
 * Where the other side's voice plays: one audio element, never in the
 * document (nothing to show), sent to the chosen speaker with setSinkId.
 */
export interface RemoteAudio {
  attach(stream: MediaStream | undefined): void
  detach(): void
  /** Output device; undefined: the system default. */
  setSink(deviceId: string | undefined): Promise<void>
  readonly sinkSupported: boolean
}

export function createRemoteAudio(make: () => HTMLAudioElement = () => new Audio()): RemoteAudio {
  const el = make()
  el.autoplay = true
  const sinkSupported = typeof (el as { setSinkId?: unknown }).setSinkId === 'function'
  return {
    attach(stream) {
      if (stream == null) return
      el.srcObject = stream
      void el.play().catch(() => {
        // Autoplay refused (no user gesture yet); the next attach or click retries.
      })
    },
    detach() {
      el.pause()
      el.srcObject = null
    },
    async setSink(deviceId) {
      if (sinkSupported) await el.setSinkId(deviceId ?? '')
    },
    sinkSupported,
  }
}
