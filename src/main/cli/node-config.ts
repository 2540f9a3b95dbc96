/**
 * Resolves `kaiwa node`'s settings: flags override the config file
 * (`--config FILE`, else DIR/config.json when present), which overrides the
 * defaults. Bad multiaddrs are usage errors, reported before anything starts.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { SupernodeModeSchema } from '../../shared/api/contract.js'
import type { SupernodeMode } from '../../shared/api/contract.js'
import { UsageError } from './args.js'
import type { NodeCommand } from './args.js'

export const ConfigFileSchema = z
  .object({
    bootstrap: z.array(z.string()).optional(),
    listen: z.array(z.string()).optional(),
    supernode: SupernodeModeSchema.optional(),
    mdns: z.boolean().optional(),
    upnp: z.boolean().optional(),
  })
  .strict()

export interface ResolvedNodeConfig {
  listen: string[]
  bootstrap: string[]
  supernode: SupernodeMode
  mdns: boolean
  upnp: boolean
}

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']

export async function resolveNodeConfig(cmd: NodeCommand): Promise<ResolvedNodeConfig> {
  const file = await readConfigFile(
    cmd.config ?? join(cmd.dataDir, 'config.json'),
    cmd.config != null,
  )
  const listen = cmd.listen ?? file.listen ?? DEFAULT_LISTEN
  const bootstrap = cmd.bootstrap ?? file.bootstrap ?? []
  for (const [flag, list] of [
    ['--listen', listen],
    ['--bootstrap', bootstrap],
  ] as const) {
    for (const a of list) {
      try {
        multiaddr(a)
      } catch {
        throw new UsageError(
          `${flag} "${a}" is not a valid multiaddr (e.g. /ip4/127.0.0.1/tcp/4001)`,
        )
      }
    }
  }
  return {
    listen,
    bootstrap,
    supernode: cmd.supernode ?? file.supernode ?? 'auto',
    mdns: cmd.mdns ?? file.mdns ?? true,
    upnp: cmd.upnp ?? file.upnp ?? true,
  }
}

async function readConfigFile(
  path: string,
  required: boolean,
): Promise<z.infer<typeof ConfigFileSchema>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`)
  }
  try {
    return ConfigFileSchema.parse(JSON.parse(text))
  } catch (err) {
    throw new UsageError(`config file ${path} is invalid: ${(err as Error).message}`)
  }
}
