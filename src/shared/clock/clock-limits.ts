/**
 * How far clocks may disagree in a Kaiwa network, and what each limit is for.
 *
 *   |skew| ≤ WARN_OWN_SKEW_MS   fine
 *   |skew| ≤ ALLOWED_SKEW_MS    still works; the user is warned from 2 min on
 *   |skew| > ALLOWED_SKEW_MS    records, load reports and mailbox requests start
 *                               to fail their time checks (and a clock > 10 min
 *                               behind filters out live devices as expired)
 *   |skew| > MAX_PEER_SKEW_MS   the peer is refused outright
 */

/** One minute, for readable constants. */
const MINUTE = 60_000

/**
 * The skew every validity window in Kaiwa must tolerate: 5 min.
 *
 * Why 5 min: it is what the existing windows already allow
 * (`MAX_CLOCK_SKEW_MS` for contact records, `LOAD_REPORT_MAX_SKEW_MS`,
 * `MAX_REQUEST_SKEW_MS` for the mailbox; SIP Identity allows 10), so naming it
 * changes no behaviour; it is the customary Kerberos clock skew, a bound
 * ordinary NTP-less PCs (drift of a few seconds a day) stay within for weeks;
 * and it is short enough that a replayed signed request stays useful for only
 * minutes. A new window (an expiry, a freshness check, a replay cache) must
 * accept at least ±ALLOWED_SKEW_MS; WARN_OWN_SKEW_MS is well inside it, so a
 * user is told before anything breaks.
 */
export const ALLOWED_SKEW_MS = 5 * MINUTE

/**
 * Warn the user when their own clock is this far from the network's median:
 * 2 min, under half of ALLOWED_SKEW_MS, so there is time to fix it before
 * validity windows start to refuse this node's records and requests.
 */
export const WARN_OWN_SKEW_MS = 2 * MINUTE

/**
 * Refuse sessions with a peer whose clock is this far from ours: 6 h. Past
 * this the peer's signed timestamps are meaningless (every window in Kaiwa is
 * far shorter), and no time-zone or daylight-saving mistake (at most ±14 h,
 * but ±1 h or a few h in practice) is likely to be honest drift; this is the
 * limit the project's other sources use as well.
 */
export const MAX_PEER_SKEW_MS = 6 * 60 * MINUTE

/**
 * Discard a sample whose round trip took longer than this: the error of an
 * NTP-style estimate is at most half the round-trip time (RFC 5905 §8), so a
 * 10 s round trip already leaves ±5 s of doubt, and longer ones say more about
 * a congested relay than about the clock.
 */
export const MAX_SAMPLE_RTT_MS = 10_000
