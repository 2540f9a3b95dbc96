import { describe, it, expect } from 'vitest'
import {
  DEFAULT_ATTACHMENT_TARGET,
  InvalidLoadReportError,
  isFresh,
  LOAD_REPORT_MAX_AGE_MS,
  LOAD_REPORT_MAX_SKEW_MS,
  loadOf,
  parseLoadReport,
  type LoadReport,
} from '../../../src/shared/election/load-report.js'

const NOW = 1_700_000_000_000
const report: LoadReport = {
  clients: 150,
  candidates: 9,
  target: 200,
  steppingDown: false,
  at: NOW,
}

describe('load reports', () => {
  it('the default target is 100 clients per supernode, each attached twice', () => {
    expect(DEFAULT_ATTACHMENT_TARGET).toBe(200)
  })

  it('parses a valid report and computes its load', () => {
    const r = parseLoadReport(JSON.parse(JSON.stringify(report)), NOW)
    expect(r).toEqual(report)
    expect(loadOf(r)).toBe(0.75)
  })

  it('refuses malformed reports with a named error', () => {
    for (const bad of [
      null,
      'load',
      { ...report, clients: -1 },
      { ...report, clients: 1.5 },
      { ...report, target: 0 },
      { ...report, steppingDown: 'yes' },
      { ...report, at: undefined },
    ]) {
      expect(() => parseLoadReport(bad, NOW)).toThrow(InvalidLoadReportError)
    }
  })

  it('refuses more candidates than clients, and a date in the future', () => {
    expect(() => parseLoadReport({ ...report, candidates: 151 }, NOW)).toThrow(/candidates/)
    const future = { ...report, at: NOW + LOAD_REPORT_MAX_SKEW_MS + 1 }
    expect(() => parseLoadReport(future, NOW)).toThrow(/future/)
    expect(parseLoadReport({ ...report, at: NOW + 1_000 }, NOW).at).toBe(NOW + 1_000)
  })

  it('a report goes stale after LOAD_REPORT_MAX_AGE_MS', () => {
    expect(isFresh(report, NOW + LOAD_REPORT_MAX_AGE_MS)).toBe(true)
    expect(isFresh(report, NOW + LOAD_REPORT_MAX_AGE_MS + 1)).toBe(false)
  })
})
