/**
 * Messages between the main process and the node host (node-host.ts, in an
 * Electron utility process). Small and validated on both sides: the host is
 * our code, but a message port is still a boundary.
 *
 * main → host: `start` once (with `kaiwa node` flags), then `stop`.
 * host → main: `ready` with the control API's port and a token minted for
 * this run, or `failed` with a message for the user.
 */
import { z } from 'zod'

export const HostStartSchema = z
  .object({ type: z.literal('start'), args: z.array(z.string().max(4096)).max(64) })
  .strict()
export const HostStopSchema = z.object({ type: z.literal('stop') }).strict()
export const ToHostSchema = z.discriminatedUnion('type', [HostStartSchema, HostStopSchema])
export type ToHost = z.infer<typeof ToHostSchema>

export const HostReadySchema = z
  .object({
    type: z.literal('ready'),
    port: z.number().int().min(1).max(65535),
    // 32 random bytes, base64url (api-token.ts uses the same shape).
    token: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    peerId: z.string().min(1).max(128),
    dataDir: z.string().min(1).max(4096),
  })
  .strict()
export const HostFailedSchema = z
  .object({
    type: z.literal('failed'),
    message: z.string().max(4096),
    /** A usage or configuration error (bad config.json): restarting will not help. */
    usage: z.boolean(),
  })
  .strict()
export const FromHostSchema = z.discriminatedUnion('type', [HostReadySchema, HostFailedSchema])
export type FromHost = z.infer<typeof FromHostSchema>
export type HostReady = z.infer<typeof HostReadySchema>

/** Where the node's control API listens for this run, and its token. */
export interface NodeConnection {
  url: string
  token: string
  peerId: string
  dataDir: string
}

export function connectionOf(ready: HostReady): NodeConnection {
  return {
    url: `http://127.0.0.1:${ready.port}`,
    token: ready.token,
    peerId: ready.peerId,
    dataDir: ready.dataDir,
  }
}
