/** Logs go to stderr (stdout carries only the machine-readable ready line). */
import type { LogLevel, Logger } from '../shared/logger.js'

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 }

export function createStderrLogger(level: LogLevel = 'info', component = 'kaiwa'): Logger {
  const write = (lvl: LogLevel, msg: string): void => {
    if (ORDER[lvl] < ORDER[level]) return
    process.stderr.write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${component}: ${msg}\n`)
  }
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    child: (c) => createStderrLogger(level, `${component}:${c}`),
  }
}

/**
 * Secrets shorter than this are not redacted: a short value (a test password
 * such as "pw") would blank out ordinary words in every line. Generated
 * secrets are 24 (SIP) and 43 (API token) characters.
 */
export const MIN_REDACTED_LENGTH = 8
export const REDACTED = '[redacted]'

/**
 * A second line of defence behind "never log a secret": every line that
 * `inner` writes has each registered secret (the API token, the SIP gateway
 * password) replaced with `[redacted]`. Secrets registered later apply to the
 * lines after, so the composition root can add them once it has loaded them.
 */
export interface RedactingLogger extends Logger {
  addSecret(secret: string): void
  /** `msg` with every registered secret blanked out (for sinks that keep lines, e.g. log-ring). */
  scrub(msg: string): string
}

export function isRedactingLogger(log: Logger): log is RedactingLogger {
  return typeof (log as Partial<RedactingLogger>).scrub === 'function'
}

export function redactingLogger(inner: Logger): RedactingLogger {
  const secrets = new Set<string>()
  const scrub = (msg: string): string => {
    let out = msg
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED)
    return out
  }
  const wrap = (target: Logger): Logger => ({
    debug: (m) => target.debug(scrub(m)),
    info: (m) => target.info(scrub(m)),
    warn: (m) => target.warn(scrub(m)),
    error: (m) => target.error(scrub(m)),
    child: (c) => wrap(target.child(c)),
  })
  return {
    ...wrap(inner),
    addSecret: (secret) => {
      if (secret.length >= MIN_REDACTED_LENGTH) secrets.add(secret)
    },
    scrub,
  }
}
