/**
 * Errors of the versioned storage layer. Both are DataDirErrors, so every
 * composition root that already reports a damaged data directory to the user
 * (and stops) reports these the same way.
 */
import { DataDirError } from './data-dir.js'

/**
 * The data was written by a newer Kaiwa (a downgrade). Opening it would either
 * hide data this build cannot read or overwrite it in an older form, so the
 * collection refuses to open and nothing is changed.
 */
export class StorageVersionError extends DataDirError {
  constructor(
    readonly collection: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `the ${collection} data in this data directory is format version ${found}, written by a newer ` +
        `Kaiwa; this build reads up to version ${supported}. Nothing was changed: install the newer ` +
        `Kaiwa again (or run this build with a different --data DIR)`,
    )
    this.name = 'StorageVersionError'
  }
}

/** A collection declaration that cannot be right (migrations with gaps, version below 1). */
export class CollectionSpecError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CollectionSpecError'
  }
}
