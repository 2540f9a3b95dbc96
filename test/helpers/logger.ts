import type { Logger } from '../../src/shared/logger.js'

/**
 * A logger that drops every line, for tests that check behaviour rather than
 * what is logged; its children are itself.
 */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
}
