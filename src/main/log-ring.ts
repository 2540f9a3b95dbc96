/**
 * Keeps the node's most recent log lines in memory, whatever the console
 * level, so "Export logs" in the UI can hand a user's report everything the
 * node said lately (including debug lines) without a log file on disk.
 */
import type { Logger } from '../shared/logger.js'
import { isRedactingLogger } from './logger.js'

export interface LogRing {
  log: Logger
  text(): string
}

/**
 * @param inner where lines go on; when it redacts secrets (logger.ts
 *   redactingLogger), the ring keeps the redacted text too, since "Export logs"
 *   hands it out
 * @param capacity lines kept (default 2000)
 */
export function withLogRing(inner: Logger, capacity = 2000): LogRing {
  const lines: string[] = []
  const scrub = isRedactingLogger(inner) ? inner.scrub : (m: string) => m
  const push = (level: string, component: string, msg: string): void => {
    lines.push(`${new Date().toISOString()} ${level.padEnd(5)} ${component}: ${scrub(msg)}`)
    if (lines.length > capacity) lines.splice(0, lines.length - capacity)
  }
  const wrap = (target: Logger, component: string): Logger => ({
    debug: (m) => (push('debug', component, m), target.debug(m)),
    info: (m) => (push('info', component, m), target.info(m)),
    warn: (m) => (push('warn', component, m), target.warn(m)),
    error: (m) => (push('error', component, m), target.error(m)),
    child: (c) => wrap(target.child(c), `${component}:${c}`),
  })
  return {
    log: wrap(inner, 'kaiwa'),
    text: () => lines.join('\n') + (lines.length > 0 ? '\n' : ''),
  }
}
