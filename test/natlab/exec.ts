/**
 * Running commands in the root namespace or inside a lab namespace. Synchronous
 * on purpose: building a topology is a few hundred short `ip`/`nft` calls, and
 * teardown must also work from a process 'exit' handler, where nothing async runs.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** iproute2 and nft live in /usr/sbin, which a non-login PATH (CI, sudo) may lack. */
function which(name: string): string {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`
  }
  return name
}

export const IP = which('ip')
export const NFT = which('nft')

// No parameter properties anywhere in test/natlab: bench/nat.mjs loads these
// files with Node's type stripping, which accepts only erasable syntax.
export class CommandError extends Error {
  readonly stderr: string
  constructor(message: string, stderr: string) {
    super(message)
    this.name = 'CommandError'
    this.stderr = stderr
  }
}

/** Run `cmd args` to completion; its stdout, or a CommandError carrying stderr. */
export function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 20_000,
    })
  } catch (err) {
    const e = err as { stderr?: string | Buffer; message: string }
    const stderr = e.stderr?.toString() ?? ''
    throw new CommandError(`${cmd} ${args.join(' ')}: ${stderr.trim() || e.message}`, stderr)
  }
}

export function ip(...args: string[]): string {
  return run(IP, args)
}

/** A veth pair, `a` in namespace `nsA` and `b` in `nsB`, both up. */
export function veth(nsA: string, a: string, nsB: string, b: string): void {
  ip('link', 'add', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB)
  ip('-n', nsA, 'link', 'set', a, 'up')
  ip('-n', nsB, 'link', 'set', b, 'up')
}

/** `cmd args` inside namespace `ns`. */
export function inNs(ns: string, cmd: string, args: string[], input?: string): string {
  return run(IP, ['netns', 'exec', ns, cmd, ...args], input)
}

/** A shell script inside `ns` (several sysctl writes in one process, for speed). */
export function shIn(ns: string, script: string): string {
  return inNs(ns, '/bin/sh', ['-ec', script])
}

/** Load an nftables ruleset (nft -f syntax) into `ns`. */
export function nftIn(ns: string, ruleset: string): void {
  inNs(ns, NFT, ['-f', '-'], ruleset)
}

/**
 * Root, `ip netns` and nftables are what the lab needs; anything else (not
 * root, a container without CAP_SYS_ADMIN or CAP_NET_ADMIN, no iproute2, no
 * nft) is a reason to skip, with this message. Checked by really creating a
 * namespace and loading a table in it, then removing it.
 */
export function labUnavailableReason(): string | null {
  if (cachedReason !== undefined) return cachedReason
  cachedReason = probeLab()
  return cachedReason
}
let cachedReason: string | null | undefined

function probeLab(): string | null {
  if (process.platform !== 'linux') return 'the NAT lab needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'the NAT lab needs root (network namespaces, nftables)'
  if (!existsSync(NFT)) return 'the NAT lab needs nft (Debian package nftables)'
  const ns = `${labPrefix()}probe${process.pid.toString(36)}`
  try {
    ip('netns', 'add', ns)
  } catch (err) {
    return `\`ip netns add\` fails here: ${String(err)}`
  }
  try {
    nftIn(
      ns,
      'table ip natlabprobe {\n chain c { type nat hook postrouting priority srcnat; }\n}\n',
    )
    return null
  } catch (err) {
    return `nftables NAT is unavailable in a namespace: ${String(err)}`
  } finally {
    try {
      ip('netns', 'del', ns)
    } catch {
      // nothing to remove
    }
  }
}

/** The prefix of every lab namespace this process makes: NATLAB_PREFIX (letters, digits, '-'), else `knl`. */
export function labPrefix(): string {
  const p = process.env.NATLAB_PREFIX
  return p != null && /^[a-z0-9-]{1,8}$/.test(p) ? p : 'knl'
}
