/**
 * `kaiwa group …` (issue 15 §2): group chat through the running node's
 * control API, as `kaiwa message` and `kaiwa inbox` are. GROUP is a group ID
 * or a group's name when only one group has it.
 *
 *   kaiwa group create NAME --members a,b,c   prints the new group's ID
 *   kaiwa group send GROUP TEXT               who got it, who will, who did not
 *   kaiwa group list | show GROUP | messages GROUP [--limit N]   JSON
 *   kaiwa group add GROUP NAME[,NAME…] | remove GROUP NAME | admin GROUP NAME
 *   kaiwa group rename GROUP NAME
 *   kaiwa group leave GROUP
 *
 * Exit codes as for every command: 0 success, 1 error (for `send`: some
 * member neither got the message nor will from the mailbox), 2 usage.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'
import type { KaiwaApi } from '../../shared/api/contract.js'
import { KaiwaError } from '../../shared/errors.js'
import { ApiCallError, createApiClient } from '../api/api-client.js'
import { readApiEndpoint } from '../api/api-token.js'
import { UsageError, defaultDataDir } from './args.js'

export const GROUP_USAGE = `Usage:
  kaiwa group create NAME --members A,B,C [--data DIR]   create a group; prints its ID
  kaiwa group send GROUP TEXT [--data DIR]       send to every member (offline ones by mailbox)
  kaiwa group list [--data DIR]                  your groups, as JSON
  kaiwa group show GROUP [--data DIR]            one group: members, admins, unread
  kaiwa group messages GROUP [--limit N] [--data DIR]   its messages in order, as JSON
  kaiwa group add GROUP NAME[,NAME...] [--data DIR]     add members (admins)
  kaiwa group remove GROUP NAME [--data DIR]     remove a member (admins)
  kaiwa group admin GROUP NAME [--data DIR]      make a member an admin (admins)
  kaiwa group rename GROUP NAME [--data DIR]     rename the group (admins)
  kaiwa group leave GROUP [--data DIR]           leave the group
GROUP is a group ID, or a group's name when only one of your groups has it.
`

const ARITY: Record<string, string[]> = {
  create: ['NAME'],
  send: ['GROUP', 'TEXT'],
  list: [],
  show: ['GROUP'],
  messages: ['GROUP'],
  add: ['GROUP', 'NAME'],
  remove: ['GROUP', 'NAME'],
  admin: ['GROUP', 'NAME'],
  rename: ['GROUP', 'NAME'],
  leave: ['GROUP'],
}

export interface GroupCommand {
  sub: string
  args: string[]
  dataDir: string
  members?: string[]
  limit?: number
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')

export function parseGroupCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): GroupCommand {
  const [sub, ...rest] = argv
  if (sub == null || ARITY[sub] == null)
    throw new UsageError(sub == null ? 'kaiwa group needs a subcommand' : `unknown: group ${sub}`)
  const options: ParseArgsConfig['options'] = { data: { type: 'string' } }
  if (sub === 'create') options.members = { type: 'string' }
  if (sub === 'messages') options.limit = { type: 'string' }
  let parsed
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  const { values, positionals } = parsed
  const wanted = ARITY[sub]!
  if (positionals.length !== wanted.length)
    throw new UsageError(
      wanted.length === 0
        ? `kaiwa group ${sub} takes no arguments`
        : `kaiwa group ${sub} needs ${wanted.join(' and ')}`,
    )
  const cmd: GroupCommand = {
    sub,
    args: positionals,
    dataDir: (values.data as string | undefined) ?? defaultDataDir(env),
  }
  if (sub === 'create') {
    const members = list((values.members as string | undefined) ?? '')
    if (members.length === 0) throw new UsageError('kaiwa group create needs --members A,B,C')
    cmd.members = members
  }
  if (values.limit != null) {
    const n = Number(values.limit)
    if (!Number.isInteger(n) || n < 1) throw new UsageError('--limit must be a positive number')
    cmd.limit = n
  }
  return cmd
}

/** Parse and run `kaiwa group ARGV`; returns the exit code. */
export async function groupCli(
  argv: string[],
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): Promise<number> {
  let cmd
  try {
    cmd = parseGroupCommand(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    out.stderr.write(`kaiwa: ${err.message}\n\n${GROUP_USAGE}`)
    return 2
  }
  try {
    const endpoint = await readApiEndpoint(cmd.dataDir)
    const token = (await readFile(`${cmd.dataDir}/api-token`, 'utf8')).trim()
    return await runGroup(createApiClient({ url: endpoint.url, token }), cmd, out)
  } catch (err) {
    const known = err instanceof KaiwaError || err instanceof ApiCallError
    out.stderr.write(`kaiwa: ${known ? err.message : String(err)}\n`)
    return 1
  }
}

export async function runGroup(
  api: KaiwaApi,
  cmd: GroupCommand,
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  const print = (v: unknown): void => void out.stdout.write(JSON.stringify(v, null, 2) + '\n')
  const [a, b] = cmd.args as [string, string]
  switch (cmd.sub) {
    case 'create': {
      const { group } = await api.groupCreate({ name: a, members: cmd.members! })
      out.stdout.write(`${group.id}\n`)
      return 0
    }
    case 'send': {
      const r = await api.groupSend({ group: a, text: b })
      const parts = [`delivered to ${r.delivered.length}`]
      if (r.stored.length > 0) parts.push(`stored for later delivery to ${r.stored.join(', ')}`)
      out.stdout.write(`${parts.join('; ')} (message ${r.message.id})\n`)
      for (const f of r.failed) out.stderr.write(`kaiwa: not sent to ${f.member}: ${f.reason}\n`)
      return r.failed.length === 0 ? 0 : 1
    }
    case 'list':
      print((await api.groups({})).groups)
      return 0
    case 'show': {
      const all = (await api.groups({})).groups
      const g = all.find((x) => x.id === a) ?? all.filter((x) => x.name === a)
      if (Array.isArray(g)) {
        if (g.length !== 1)
          throw new KaiwaError(g.length === 0 ? `no group "${a}"` : `${g.length} groups are "${a}"`)
        print(g[0])
      } else print(g)
      return 0
    }
    case 'messages':
      print(
        (await api.groupMessages({ group: a, ...(cmd.limit != null ? { limit: cmd.limit } : {}) }))
          .messages,
      )
      return 0
    case 'add':
      print((await api.groupAdd({ group: a, members: list(b) })).group)
      return 0
    case 'remove':
      print((await api.groupRemove({ group: a, member: b })).group)
      return 0
    case 'admin':
      print((await api.groupAdmin({ group: a, member: b })).group)
      return 0
    case 'rename':
      print((await api.groupRename({ group: a, name: b })).group)
      return 0
    default: {
      const { group } = await api.groupLeave({ group: a })
      out.stdout.write(`left "${group.name}" (${group.id})\n`)
      return 0
    }
  }
}
