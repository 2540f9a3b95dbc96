/**
 * Tests that need a tool or root may skip on a developer's machine without
 * it, never in CI: there a missing requirement fails the test file, loudly,
 * instead of passing by skipping (scripts/install-test-deps.sh installs the
 * tools; CI runs as root).
 */
export function required(available: boolean, what: string): boolean {
  if (!available && process.env.CI === 'true')
    throw new Error(`${what} is required in CI; scripts/install-test-deps.sh installs it`)
  if (!available) console.warn(`skipping: ${what} is not available here`)
  return available
}
