/**
 * Runs the real sipp (Debian's sip-tester) against Kaiwa's SIP
 * gateway: one scenario from test/fixtures/sipp per process, always with
 * `-m` (calls), `-timeout`/`-timeout_error` (a hung scenario fails) and
 * `-trace_err` (unexpected messages are logged), in a scratch directory so the
 * logs can be shown when a run fails. Every process is tracked and killed by
 * `killAllSipp`.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** On PATH (Debian's sip-tester installs /usr/bin/sipp; .ci/run installs it). */
export const SIPP = 'sipp'
const FIXTURES = fileURLToPath(new URL('../fixtures/sipp/', import.meta.url))

export interface SippRun {
  /** The exit code (0: every call succeeded), null if killed. */
  code: number | null
  stdout: string
  stderr: string
  /** The -trace_err log(s), if sipp wrote any. */
  errors: string
  /** The command line, for messages. */
  command: string
}

export interface SippOptions {
  scenario: string
  /** host:port of the gateway (omitted for a UAS, which only listens). */
  remote?: string
  transport?: 'u1' | 't1'
  /** Local port (-p); random when omitted. */
  port?: number
  /** -s: the user part of the Request-URI ([service]). */
  service?: string
  /** Digest credentials (-au/-ap) for [authentication]. */
  auth?: { user: string; password: string }
  /** -key NAME VALUE pairs. */
  keys?: Record<string, string | number>
  calls?: number
  timeoutS?: number
}

const running = new Set<ChildProcess>()

export function sippArgs(o: SippOptions): string[] {
  const args = [
    ...(o.remote != null ? [o.remote] : []),
    '-sf',
    join(FIXTURES, o.scenario),
    '-t',
    o.transport ?? 'u1',
    '-i',
    '127.0.0.1',
    '-m',
    String(o.calls ?? 1),
    '-timeout',
    `${o.timeoutS ?? 20}s`,
    '-timeout_error',
    '-trace_err',
    '-nostdin',
    '-max_retrans',
    '7',
  ]
  if (o.port != null) args.push('-p', String(o.port))
  if (o.service != null) args.push('-s', o.service)
  if (o.auth != null) args.push('-au', o.auth.user, '-ap', o.auth.password)
  for (const [k, v] of Object.entries(o.keys ?? {})) args.push('-key', k, String(v))
  return args
}

/** Start sipp; `done` settles when it exits. */
export async function startSipp(o: SippOptions): Promise<{ done: Promise<SippRun>; kill(): void }> {
  const cwd = await mkdtemp(join(tmpdir(), 'kaiwa-sipp-'))
  const args = sippArgs(o)
  const child = spawn(SIPP, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const done = new Promise<SippRun>((resolve) => {
    const finish = (code: number | null): void => {
      running.delete(child)
      void readErrors(cwd)
        .then(async (errors) => {
          await rm(cwd, { recursive: true, force: true })
          return errors
        })
        .then((errors) =>
          resolve({ code, stdout, stderr, errors, command: `sipp ${args.join(' ')}` }),
        )
    }
    child.once('exit', finish)
    child.once('error', (err) => {
      stderr += `cannot run sipp: ${err.message} (install Debian's sip-tester)\n`
      finish(null)
    })
  })
  return { done, kill: () => child.kill('SIGKILL') }
}

/** Run sipp to completion. */
export async function runSipp(o: SippOptions): Promise<SippRun> {
  return (await startSipp(o)).done
}

async function readErrors(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('_errors.log'))
  const parts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))
  return parts.join('\n')
}

/** A readable account of a failed run for assertion messages. */
export function explain(run: SippRun): string {
  const tail = (s: string): string => s.split('\n').slice(-40).join('\n')
  return `${run.command}\nexit ${run.code}\n--- errors log ---\n${tail(run.errors)}\n--- stderr ---\n${tail(run.stderr)}`
}

export function killAllSipp(): void {
  for (const c of running) c.kill('SIGKILL')
  running.clear()
}
