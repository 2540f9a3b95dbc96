// The check list of `npm run dist:check`: one line per check, and on failure
// what was wrong and what to do next. Checks keep going after a failure so one
// run shows everything that is broken.

/** A failed check: `message` says what is wrong, `fix` what to do about it. */
export class DistCheckError extends Error {
  static name = 'DistCheckError'
  constructor(message, fix) {
    super(message)
    this.name = DistCheckError.name
    this.fix = fix
  }
}

/** Throws DistCheckError(message, fix) unless `condition` holds. */
export function expect(condition, message, fix) {
  if (!condition) throw new DistCheckError(message, fix)
}

export class Report {
  failures = []
  passed = 0

  /**
   * Runs `fn` (sync or async) as the check `label`. It returns a short detail
   * for the success line, or throws; a DistCheckError's fix is printed with it.
   */
  async check(label, fn) {
    try {
      const detail = await fn()
      this.passed++
      console.log(`  ok    ${label}${detail ? ` (${detail})` : ''}`)
      return true
    } catch (error) {
      const fix = error instanceof DistCheckError ? error.fix : undefined
      this.failures.push({ label, message: error.message, fix })
      console.log(`  FAIL  ${label}: ${error.message}`)
      if (fix) console.log(`        next: ${fix}`)
      return false
    }
  }

  get ok() {
    return this.failures.length === 0
  }
}
