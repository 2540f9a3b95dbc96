/**
 * The one set of cborg decode options for everything Kaiwa signs or stores
 * (contact records, mail, mailbox requests): reject what a canonical encoder
 * never produces, so two byte strings cannot decode to the same value. Forms
 * cborg's strict mode still lets through (unsorted maps, half-floats) are caught
 * by the callers' re-encode-and-compare check.
 */
import type { DecodeOptions } from 'cborg'

export const STRICT_DECODE: DecodeOptions = {
  strict: true,
  rejectDuplicateMapKeys: true,
  allowUndefined: false,
  allowIndefinite: false,
  allowNaN: false,
  allowInfinity: false,
  allowBigInt: false,
  useMaps: false,
  tags: [], // no tag decoders: any CBOR tag is an error
}
