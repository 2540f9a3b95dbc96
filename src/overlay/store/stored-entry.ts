/**
 * The byte form of one stored entry. Version 1 is what Kaiwa wrote before
 * storage was versioned: the bare JSON value, with no version anywhere. From
 * version 2 on, every entry says which version it is:
 *
 *     {"$v":2,"data":{...the stored value...}}
 *
 * so entries of different versions can sit side by side (a migration that was
 * interrupted part-way, or an entry written by an old build after an upgrade)
 * and each one is still read correctly. No version-1 value is an object with a
 * `$v` key: every collection's v1 schema is a plain record without one.
 */

/** Why an entry could not be read; the text is what the quarantine record keeps. */
export class UnreadableEntryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'UnreadableEntryError'
  }
}

export interface DecodedEntry {
  /** The format version the entry was written in (1 = bare, unversioned JSON). */
  version: number
  /** The value as written in that version, not yet migrated or validated. */
  data: unknown
}

const VERSION_FIELD = '$v'

export function encodeEntry(version: number, data: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ [VERSION_FIELD]: version, data }))
}

export function decodeEntry(bytes: Uint8Array): DecodedEntry {
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new UnreadableEntryError(`not valid UTF-8 JSON (${errorText(err)})`, { cause: err })
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UnreadableEntryError('not a JSON object')
  }
  if (!Object.hasOwn(json, VERSION_FIELD)) return { version: 1, data: json }
  const { [VERSION_FIELD]: version, data } = json as Record<string, unknown>
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 2) {
    throw new UnreadableEntryError(
      `its version field is not a version (${JSON.stringify(version)})`,
    )
  }
  if (data === undefined) throw new UnreadableEntryError(`version ${version} entry has no data`)
  return { version, data }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
