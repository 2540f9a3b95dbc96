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
