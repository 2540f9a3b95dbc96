/**
 * Opus (RFC 6716) for the overlay leg: 48 kHz mono, the VOIP application,
 * 20 ms frames, in-band FEC on, about 32 kbit/s. libopus 1.4 comes from
 * opusscript's WebAssembly build.
 *
 * Why not opusscript's own JavaScript wrapper (index.js, 0.1.1): it keeps
 * views of the WASM heap made at construction, and (1) hands libopus the
 * byte offset of a Uint16Array view built from a byte pointer, i.e. twice the
 * address it malloc'd, so it reads and writes memory it does not own, and (2)
 * those views die when the heap grows: past about 80 codecs in one process
 * every encode throws "offset is out of bounds" or "detached ArrayBuffer".
 * So this wrapper drives the same compiled `OpusScriptHandler` class itself,
 * with its own correctly sized buffers and fresh heap views on every call.
 *
 * The handler's byte protocol (src/opusscript_encoder.cpp): `_encode` takes
 * one byte of little-endian PCM per 16-bit heap slot, `_decode` writes the
 * same way, and `_decode` always calls opus_decode with decode_fec = 0, so
 * FEC data in a packet cannot be decoded here; a lost frame is concealed by
 * libopus's PLC instead (see `conceal`).
 */
import { createRequire } from 'node:module'

export const OPUS_RATE = 48_000
/** 20 ms at 48 kHz. */
export const OPUS_FRAME_SAMPLES = 960
/** opusscript's fixed output buffer: 120 ms, the longest Opus packet (RFC 6716 §3.2.5). */
const MAX_DECODED_SAMPLES = 5760
/** opusscript's MAX_PACKET_SIZE: 3 × 1275, the longest it will write or read. */
const MAX_PACKET_BYTES = 3828
const OPUS_APPLICATION_VOIP = 2048

// opus_defines.h request codes.
const OPUS_SET_BITRATE = 4002
const OPUS_SET_MAX_BANDWIDTH = 4004
const OPUS_SET_COMPLEXITY = 4010
const OPUS_SET_INBAND_FEC = 4012
const OPUS_SET_PACKET_LOSS_PERC = 4014
const OPUS_SET_SIGNAL = 4024
const OPUS_SIGNAL_VOICE = 3001
const BANDWIDTH = {
  narrowband: 1101,
  mediumband: 1102,
  wideband: 1103,
  superwideband: 1104,
  fullband: 1105,
} as const

/** A packet libopus rejects (corrupt, truncated, or not Opus): the relay drops it. */
export class OpusDecodeError extends Error {
  static override readonly name = 'OpusDecodeError'
  constructor(message: string) {
    super(message)
    this.name = OpusDecodeError.name
  }
}

/** A frame the encoder cannot take, a libopus error, or a codec used after `destroy()`. */
export class OpusCodecError extends Error {
  static override readonly name = 'OpusCodecError'
  constructor(message: string) {
    super(message)
    this.name = OpusCodecError.name
  }
}

export interface OpusCodecOptions {
  /** Target bitrate in bit/s. @default 32000 */
  bitrate?: number
  /** In-band FEC (LBRR) in every packet, for the far end's decoder. @default true */
  inbandFec?: boolean
  /** Expected loss; libopus only spends bits on FEC when this is above 0. @default 10 */
  packetLossPercent?: number
  /** 0 (cheapest) … 10. @default 5 */
  complexity?: number
  /**
   * Widest audio band to code. G.711 carries 300–3400 Hz, so coding more
   * than narrowband spends bits and CPU on silence. @default 'narrowband'
   */
  maxBandwidth?: keyof typeof BANDWIDTH
}

interface OpusHandler {
  _encode(input: number, samples: number, output: number, frameSize: number): number
  _decode(input: number, bytes: number, output: number): number
  _encoder_ctl(ctl: number, arg: number): number
  _decoder_ctl(ctl: number, arg: number): number
}

interface OpusNative {
  HEAPU8: Uint8Array
  HEAP16: Int16Array
  HEAPU16: Uint16Array
  _malloc(bytes: number): number
  _free(ptr: number): void
  OpusScriptHandler: {
    new (rate: number, channels: number, application: number): OpusHandler
    destroy_handler(handler: OpusHandler): void
  }
}

let native: OpusNative | undefined
/** One WASM instance per process, loaded on first use (≈ 300 kB compiled synchronously). */
function opusNative(): OpusNative {
  if (!native) {
    const require = createRequire(import.meta.url)
    const factory = require('opusscript/build/opusscript_native_wasm.js') as () => OpusNative
    native = factory()
  }
  return native
}

/** One Opus encoder and decoder pair; call `destroy()` to free its WASM memory. */
export class OpusCodec {
  private handler: OpusHandler | undefined
  private readonly native = opusNative()
  private readonly pcmIn: number
  private readonly packetOut: number
  private readonly packetIn: number
  private readonly pcmOut: number
  /** TOC of the last packet decoded: PLC continues in its mode and bandwidth. */
  private lastToc: number | undefined

  constructor(options: OpusCodecOptions = {}) {
    const n = this.native
    const handler = new n.OpusScriptHandler(OPUS_RATE, 1, OPUS_APPLICATION_VOIP)
    this.handler = handler
    // Two heap slots per sample on both sides (the handler's byte protocol).
    this.pcmIn = n._malloc(MAX_DECODED_SAMPLES * 4)
    this.packetOut = n._malloc(MAX_PACKET_BYTES)
    this.packetIn = n._malloc(MAX_PACKET_BYTES)
    this.pcmOut = n._malloc(MAX_DECODED_SAMPLES * 4)
    const ctl = (request: number, value: number): void => {
      const rc = handler._encoder_ctl(request, value)
      if (rc < 0) {
        this.destroy()
        throw new OpusCodecError(`opus_encoder_ctl(${request}, ${value}) failed: ${rc}`)
      }
    }
    ctl(OPUS_SET_BITRATE, options.bitrate ?? 32_000)
    ctl(OPUS_SET_INBAND_FEC, options.inbandFec === false ? 0 : 1)
    ctl(OPUS_SET_PACKET_LOSS_PERC, options.packetLossPercent ?? 10)
    ctl(OPUS_SET_COMPLEXITY, options.complexity ?? 5)
    ctl(OPUS_SET_MAX_BANDWIDTH, BANDWIDTH[options.maxBandwidth ?? 'narrowband'])
    ctl(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE)
  }

  private live(): OpusHandler {
    if (!this.handler) throw new OpusCodecError('the Opus codec was destroyed')
    return this.handler
  }

  /** Encode one frame of 48 kHz PCM (2.5–60 ms; the transcoder uses 20 ms) to one packet. */
  encode(pcm: Int16Array): Uint8Array {
    const handler = this.live()
    if (![120, 240, 480, 960, 1920, 2880].includes(pcm.length))
      throw new OpusCodecError(
        `an Opus frame is 2.5, 5, 10, 20, 40 or 60 ms, not ${pcm.length} samples`,
      )
    const heap = this.native.HEAP16 // re-read every call: the heap may have grown
    const base = this.pcmIn >> 1
    for (let i = 0; i < pcm.length; i++) {
      const s = pcm[i]!
      heap[base + 2 * i] = s & 0xff
      heap[base + 2 * i + 1] = (s >> 8) & 0xff
    }
    const len = handler._encode(this.pcmIn, pcm.length, this.packetOut, pcm.length)
    if (len < 0) throw new OpusCodecError(`opus_encode failed: ${len}`)
    return this.native.HEAPU8.slice(this.packetOut, this.packetOut + len)
  }

  /** Decode one packet to 48 kHz PCM; throws `OpusDecodeError` for a packet libopus rejects. */
  decode(packet: Uint8Array): Int16Array {
    const handler = this.live()
    // RFC 6716 §3.4 [R1]: a packet is at least one byte. An empty one would make
    // opus_decode conceal 120 ms, so it is refused here rather than passed on.
    if (packet.length === 0) throw new OpusDecodeError('an Opus packet has at least one byte')
    if (packet.length > MAX_PACKET_BYTES)
      throw new OpusDecodeError(`an Opus packet of ${packet.length} bytes is too long`)
    this.native.HEAPU8.set(packet, this.packetIn)
    const samples = handler._decode(this.packetIn, packet.length, this.pcmOut)
    if (samples < 0)
      throw new OpusDecodeError(`opus_decode rejected a ${packet.length}-byte packet: ${samples}`)
    this.lastToc = packet[0]!
    return this.readPcm(samples)
  }

  /**
   * Packet loss concealment for `samples` missing 48 kHz samples. A packet of
   * only a TOC byte (code 0, RFC 6716 §3.2.2) holds one zero-length frame,
   * and libopus's opus_decode_frame conceals a frame of one byte or less as
   * lost, for the duration the TOC's configuration gives (§3.1) — so, unlike
   * opus_decode's own PLC entry (an empty packet), it conceals one frame,
   * not the 120 ms opusscript's buffer allows. Reusing the last TOC keeps the
   * decoder in the same mode and bandwidth. Before any packet was decoded
   * there is nothing to extrapolate, so this is silence.
   */
  conceal(samples: number): Int16Array {
    const handler = this.live()
    const out = new Int16Array(Math.max(0, samples))
    if (this.lastToc === undefined) return out
    const toc = this.lastToc & 0xfc
    for (let filled = 0; filled < out.length;) {
      this.native.HEAPU8[this.packetIn] = toc
      const n = handler._decode(this.packetIn, 1, this.pcmOut)
      if (n <= 0) break
      const pcm = this.readPcm(n)
      out.set(pcm.subarray(0, Math.min(n, out.length - filled)), filled)
      filled += n
    }
    return out
  }

  private readPcm(samples: number): Int16Array {
    const heap = this.native.HEAPU16
    const base = this.pcmOut >> 1
    const out = new Int16Array(samples)
    for (let i = 0; i < samples; i++) out[i] = heap[base + 2 * i]! | (heap[base + 2 * i + 1]! << 8)
    return out
  }

  /** Free the encoder, decoder and buffers; the codec is unusable afterwards. Idempotent. */
  destroy(): void {
    const handler = this.handler
    if (!handler) return
    this.handler = undefined
    const n = this.native
    n.OpusScriptHandler.destroy_handler(handler)
    for (const ptr of [this.pcmIn, this.packetOut, this.packetIn, this.pcmOut]) n._free(ptr)
  }
}
