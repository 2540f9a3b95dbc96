import { describe, it, expect } from 'vitest'
import { InvalidUserIdError } from '../../src/shared/errors.js'
import { isValidUserId, normalizeUserId } from '../../src/shared/user-id.js'

describe('normalizeUserId', () => {
  it('trims and lowercases', () => {
    expect(normalizeUserId(' Alice ')).toBe('alice')
    expect(normalizeUserId('Bob.Smith_2-x')).toBe('bob.smith_2-x')
  })

  it('applies NFKC so fullwidth letters become ASCII', () => {
    expect(normalizeUserId('ＡＬＩＣＥ')).toBe('alice')
  })

  it('accepts the length bounds 3 and 32', () => {
    expect(normalizeUserId('abc')).toBe('abc')
    expect(normalizeUserId('a'.repeat(32))).toBe('a'.repeat(32))
  })

  it.each([
    ['ab', 'too short'],
    ['a'.repeat(33), 'too long'],
    ['a b c', 'space'],
    ['.abc', 'leading dot'],
    ['abc.', 'trailing dot'],
    ['-abc', 'leading dash'],
    ['abc-', 'trailing dash'],
    ['alicé', 'non-ASCII letter'],
    ['al/ice', 'slash'],
    ['', 'empty'],
    ['   ', 'blank'],
  ])('rejects %j (%s)', (input) => {
    expect(() => normalizeUserId(input)).toThrow(InvalidUserIdError)
  })

  it('explains the rule in the error message', () => {
    expect(() => normalizeUserId('ab')).toThrow(/3–32 characters of a-z, 0-9/)
  })
})

describe('isValidUserId', () => {
  it('only accepts already-normalised IDs', () => {
    expect(isValidUserId('alice')).toBe(true)
    expect(isValidUserId('_a_')).toBe(true)
    expect(isValidUserId('Alice')).toBe(false)
    expect(isValidUserId(' alice')).toBe(false)
    expect(isValidUserId('a.')).toBe(false)
    expect(isValidUserId(42)).toBe(false)
  })
})
