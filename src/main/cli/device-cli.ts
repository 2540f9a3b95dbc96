/**
 * `kaiwa device …` (issue 15 §3): the account's devices, through the running
 * node's control API.
 *
 *   kaiwa device list [--data DIR]          this account's devices, as JSON
 *   kaiwa device remove ID [--data DIR]     remove a device (by its peer id)
 *
 * Exit codes: 0 success, 1 error, 2 usage.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import type { KaiwaApi } from '../../shared/api/contract.js'
import { KaiwaError } from '../../shared/errors.js'
import { ApiCallError, createApiClient } from '../api/api-client.js'
import { readApiEndpoint } from '../api/api-token.js'
import { UsageError, defaultDataDir } from './args.js'

export const DEVICE_USAGE = `Usage:
  kaiwa device list [--data DIR]         this account's devices (this one, the others, removed), as JSON
  kaiwa device remove ID [--data DIR]    remove another device of the account (ID: its peer id)
`

export interface DeviceCommand {
  sub: 'list' | 'remove'
  id?: string
  dataDir: string
}

export function parseDeviceCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): DeviceCommand {
  const [sub, ...rest] = argv
  if (sub !== 'list' && sub !== 'remove')
    throw new UsageError(sub == null ? 'kaiwa device needs a subcommand' : `unknown: device ${sub}`)
  let parsed
  try {
    parsed = parseArgs({
      args: rest,
      options: { data: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    })
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  const want = sub === 'remove' ? 1 : 0
  if (parsed.positionals.length !== want)
    throw new UsageError(
      sub === 'remove' ? 'kaiwa device remove needs ID' : 'kaiwa device list takes no arguments',
    )
  return {
    sub,
    ...(sub === 'remove' ? { id: parsed.positionals[0]! } : {}),
    dataDir: parsed.values.data ?? defaultDataDir(env),
  }
}

/** Parse and run `kaiwa device ARGV`; returns the exit code. */
export async function deviceCli(
  argv: string[],
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): Promise<number> {
  let cmd
  try {
    cmd = parseDeviceCommand(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    out.stderr.write(`kaiwa: ${err.message}\n\n${DEVICE_USAGE}`)
    return 2
  }
  try {
    const endpoint = await readApiEndpoint(cmd.dataDir)
    const token = (await readFile(`${cmd.dataDir}/api-token`, 'utf8')).trim()
    return await runDevice(createApiClient({ url: endpoint.url, token }), cmd, out)
  } catch (err) {
    const known = err instanceof KaiwaError || err instanceof ApiCallError
    out.stderr.write(`kaiwa: ${known ? err.message : String(err)}\n`)
    return 1
  }
}

export async function runDevice(
  api: KaiwaApi,
  cmd: DeviceCommand,
  out: { stdout: NodeJS.WritableStream },
): Promise<number> {
  const { devices } =
    cmd.sub === 'remove' ? await api.deviceRemove({ peerId: cmd.id! }) : await api.devices({})
  out.stdout.write(JSON.stringify(devices, null, 2) + '\n')
  return 0
}
