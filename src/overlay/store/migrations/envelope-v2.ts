/**
 * The 1→2 migration most collections need: version 2 is the version-1 value,
 * validated against the v1 schema and unchanged, now written in the versioned
 * envelope (`{"$v":2,"data":...}`, see stored-entry.ts). Before it, a stored
 * entry said nothing about its format, so a future change to it could only be
 * guessed at.
 */
import type { z } from 'zod'
import type { Migration } from '../versioned-collection.js'

export function envelopeV2(v1Schema: z.ZodType): Migration {
  return { from: 1, to: 2, migrate: (entry) => v1Schema.parse(entry) }
}
