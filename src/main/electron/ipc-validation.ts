/**
 * Argument checks for every IPC channel the renderer may use, and the reply
 * envelope of the invoke channels. Everything from the renderer is untrusted
 * input (a compromised page can send anything down an allowed channel), so the
 * main process re-validates with the same zod contract the HTTP API uses
 * before anything reaches the node.
 */
import { z } from 'zod'
import { IPC } from '../../shared/api/bridge.js'
import { FileIdSchema, apiContract } from '../../shared/api/contract.js'
import type { ApiMethod } from '../../shared/api/contract.js'
import { ScreenSourceIdSchema } from '../../shared/api/screen-share.js'
import { MAX_SIP_FRAME_CHARS } from '../../shared/api/sip-bridge-protocol.js'

/**
 * Why a request failed, as the renderer's `toApiError` reads it. The preload
 * turns it into an Error whose message is `[code] message`, because
 * contextBridge copies only the message of an Error across worlds.
 */
export interface IpcFailure {
  code: string
  message: string
}

/** What every `ipcMain.handle` returns: thrown errors would lose their code on the way. */
export type IpcReply<T = unknown> = { ok: true; result: T } | { ok: false; error: IpcFailure }

export const ok = <T>(result: T): IpcReply<T> => ({ ok: true, result })
export const failure = (code: string, message: string): IpcReply<never> => ({
  ok: false,
  error: { code, message },
})

export const PipeIdSchema = z.number().int().positive().max(0x7fffffff)

/** Arguments after the event, per renderer-to-main channel. Extra arguments are refused too. */
export const ipcArgSchemas = {
  [IPC.sipOpen]: z.tuple([]),
  [IPC.sipSend]: z.tuple([PipeIdSchema, z.string().min(1).max(MAX_SIP_FRAME_CHARS)]),
  [IPC.sipClose]: z.tuple([PipeIdSchema]),
  [IPC.callStarting]: z.tuple([]),
  [IPC.callEnded]: z.tuple([]),
  [IPC.cameraStarting]: z.tuple([]),
  [IPC.cameraStopped]: z.tuple([]),
  [IPC.screenSources]: z.tuple([]),
  [IPC.screenChoose]: z.tuple([ScreenSourceIdSchema]),
  // A notification is a line or two; longer text is cut by every desktop anyway.
  [IPC.notify]: z.tuple([z.string().min(1).max(200), z.string().max(2000)]),
  [IPC.autostartGet]: z.tuple([]),
  [IPC.autostartSet]: z.tuple([z.boolean()]),
  // A transfer id only: the main process finds the verified file's path at the node.
  [IPC.fileSave]: z.tuple([FileIdSchema]),
  [IPC.filePreview]: z.tuple([FileIdSchema]),
} as const

export type IpcArgChannel = keyof typeof ipcArgSchemas
export type IpcArgs<C extends IpcArgChannel> = z.infer<(typeof ipcArgSchemas)[C]>

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: IpcFailure }

export function parseIpcArgs<C extends IpcArgChannel>(
  channel: C,
  args: readonly unknown[],
): Parsed<IpcArgs<C>> {
  const parsed = ipcArgSchemas[channel].safeParse(args)
  if (parsed.success) return { ok: true, value: parsed.data as IpcArgs<C> }
  return {
    ok: false,
    error: { code: 'invalid_input', message: `${channel}: ${z.prettifyError(parsed.error)}` },
  }
}

/** `kaiwa:call` arguments: a contract method and its input, validated by the contract. */
export function parseCallArgs(
  args: readonly unknown[],
): Parsed<{ method: ApiMethod; input: unknown }> {
  if (args.length < 1 || args.length > 2) {
    return { ok: false, error: { code: 'invalid_input', message: 'expected (method, input)' } }
  }
  const [method, input] = args
  if (typeof method !== 'string' || !Object.hasOwn(apiContract, method)) {
    const shown = typeof method === 'string' ? method.slice(0, 64) : typeof method
    return { ok: false, error: { code: 'not_found', message: `unknown method "${shown}"` } }
  }
  const schema = apiContract[method as ApiMethod].input as z.ZodType
  const parsed = schema.safeParse(input ?? {})
  if (!parsed.success) {
    return { ok: false, error: { code: 'invalid_input', message: z.prettifyError(parsed.error) } }
  }
  return { ok: true, value: { method: method as ApiMethod, input: parsed.data } }
}
