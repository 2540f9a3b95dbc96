/**
 * What a supernode publishes about its load, and how others read it. Reports
 * cross the wire (a libp2p protocol the node answers), so they are validated
 * with zod at the boundary like every API message.
 *
 * Load counts attachments: each client attaches to CLIENT_ATTACHMENTS
 * supernodes, so at the target ratio of TARGET_CLIENTS_PER_SUPERNODE clients
 * per supernode each one carries TARGET_CLIENTS_PER_SUPERNODE ×
 * CLIENT_ATTACHMENTS attachments.
 */
import { ALLOWED_SKEW_MS } from '../clock/clock-limits.js'
import { z } from 'zod'
import { KaiwaError } from '../errors.js'

/**
 * Clients per supernode the network aims for: one supernode per 101 nodes,
 * about 1%.
 *
 * @default 100
 */
export const TARGET_CLIENTS_PER_SUPERNODE = 100

/**
 * Supernodes each client attaches to, so that one leaving abruptly never leaves
 * the client without service while it re-attaches.
 *
 * @default 2
 */
export const CLIENT_ATTACHMENTS = 2

/**
 * The `target` a supernode reports by default: attachments it carries at the
 * target ratio. A supernode whose operator capped it lower reports less; the
 * election then counts it as a fraction of a supernode.
 *
 * @default 200
 */
export const DEFAULT_ATTACHMENT_TARGET = TARGET_CLIENTS_PER_SUPERNODE * CLIENT_ATTACHMENTS

/**
 * How often a supernode refreshes its report.
 *
 * @default 60_000
 */
export const LOAD_REPORT_INTERVAL_MS = 60_000

/**
 * Reports older than this are ignored: three missed refreshes mean the
 * supernode is probably gone, and its old load would skew the mean.
 *
 * @default 180_000
 */
export const LOAD_REPORT_MAX_AGE_MS = 3 * LOAD_REPORT_INTERVAL_MS

/** Tolerated clock difference for a report's timestamp in the future. */
export const LOAD_REPORT_MAX_SKEW_MS = ALLOWED_SKEW_MS

export const LoadReportSchema = z.object({
  /** Clients attached to this supernode now. */
  clients: z.number().int().nonnegative().max(1_000_000),
  /**
   * Attached clients that told this supernode they are capable `auto`
   * candidates. A candidate needs it to estimate how many others will act on
   * the same overload, so that promotions are spread instead of a herd.
   */
  candidates: z.number().int().nonnegative().max(1_000_000),
  /** Attachments this supernode aims to carry (DEFAULT_ATTACHMENT_TARGET unless capped). */
  target: z.number().int().positive().max(1_000_000),
  /** Handing its clients off before becoming a client: do not attach, count as leaving. */
  steppingDown: z.boolean(),
  /** When the counts were taken, ms since the epoch (the supernode's clock). */
  at: z.number().int().nonnegative(),
})
export type LoadReport = z.infer<typeof LoadReportSchema>

/** A load report that failed the schema or the sanity checks. */
export class InvalidLoadReportError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'invalid_input', options)
    this.name = 'InvalidLoadReportError'
  }
}

/**
 * Validate a report received from a peer. Throws InvalidLoadReportError when
 * it is malformed, counts more candidates than clients, or is dated too far in
 * the future (which would keep it "fresh" forever).
 */
export function parseLoadReport(value: unknown, now: number): LoadReport {
  const parsed = LoadReportSchema.safeParse(value)
  if (!parsed.success) {
    throw new InvalidLoadReportError(`invalid load report: ${parsed.error.message}`, {
      cause: parsed.error,
    })
  }
  const r = parsed.data
  if (r.candidates > r.clients) {
    throw new InvalidLoadReportError('invalid load report: more candidates than clients')
  }
  if (r.at > now + LOAD_REPORT_MAX_SKEW_MS) {
    throw new InvalidLoadReportError('invalid load report: dated in the future')
  }
  return r
}

/** Load as a fraction of the target: 1 is exactly at target. */
export function loadOf(r: Pick<LoadReport, 'clients' | 'target'>): number {
  return r.clients / r.target
}

/** A report recent enough to act on. */
export function isFresh(r: Pick<LoadReport, 'at'>, now: number): boolean {
  return now - r.at <= LOAD_REPORT_MAX_AGE_MS
}
