/**
 * Named errors of the headless node (files, processes). Shared errors that the
 * API maps to HTTP statuses live in src/shared/errors.ts; these are local to main.
 */
import { KaiwaError } from '../shared/errors.js'

/** A file in the data directory exists but cannot be used; the user must repair it. */
export class CorruptDataError extends KaiwaError {
  readonly path: string
  constructor(path: string, what: string) {
    super(`${path} is corrupt (${what}); delete ${path} and restart the node`, 'internal')
    this.name = 'CorruptDataError'
    this.path = path
  }
}

/** A CLI command needs a running node, and none is running for this data directory. */
export class NodeNotRunningError extends KaiwaError {
  readonly dataDir: string
  constructor(dataDir: string) {
    super(
      `no Kaiwa node is running for ${dataDir}; start one with: kaiwa node --data ${dataDir}`,
      'internal',
    )
    this.name = 'NodeNotRunningError'
    this.dataDir = dataDir
  }
}
