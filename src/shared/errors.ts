/**
 * Named error classes shared by every layer. Callers branch on `name` (or
 * `instanceof`), never on message text. Each error carries an API `code` so the
 * control API can map it to an HTTP status without string matching.
 */
export type ErrorCode =
  | 'invalid_input'
  | 'invalid_user_id'
  | 'invalid_record'
  | 'name_taken'
  | 'not_found'
  | 'no_peers'
  | 'timeout'
  | 'unauthorized'
  | 'unavailable'
  | 'rejected'
  | 'key_changed'
  | 'conflict'
  | 'internal'

export class KaiwaError extends Error {
  static readonly code: ErrorCode = 'internal'
  readonly code: ErrorCode
  constructor(message: string, code: ErrorCode = 'internal', options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'KaiwaError'
  }
}

export class InvalidUserIdError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_user_id')
    this.name = 'InvalidUserIdError'
  }
}

/** A DHT record failed decoding, schema, signature, size or time checks. */
export class InvalidRecordError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'invalid_record', options)
    this.name = 'InvalidRecordError'
  }
}

/** A validly signed record that would replace a newer one (seq did not go up). */
export class StaleRecordError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_record')
    this.name = 'StaleRecordError'
  }
}

/** A claim for a live name that another account key holds (first come, first served). */
export class NameTakenError extends KaiwaError {
  constructor(name: string) {
    super(
      `the user ID "${name}" is already claimed by another account; choose another name`,
      'name_taken',
    )
    this.name = 'NameTakenError'
  }
}

export class NotFoundError extends KaiwaError {
  constructor(message: string) {
    super(message, 'not_found')
    this.name = 'NotFoundError'
  }
}

/** The overlay has no DHT server (supernode) to store or query records. */
export class NoOverlayPeersError extends KaiwaError {
  constructor(message = 'not connected to any supernode; check --bootstrap or start a supernode') {
    super(message, 'no_peers')
    this.name = 'NoOverlayPeersError'
  }
}

export class OverlayTimeoutError extends KaiwaError {
  constructor(message: string) {
    super(message, 'timeout')
    this.name = 'OverlayTimeoutError'
  }
}

export class UnauthorizedError extends KaiwaError {
  constructor(message = 'missing or wrong API token') {
    super(message, 'unauthorized')
    this.name = 'UnauthorizedError'
  }
}

export class InvalidInputError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'InvalidInputError'
  }
}

/** The user exists but none of their devices could be reached (SIP 480). */
export class UserUnavailableError extends KaiwaError {
  constructor(message: string) {
    super(message, 'unavailable')
    this.name = 'UserUnavailableError'
  }
}

/** The far end answered with a SIP failure the caller should see as is. */
export class SipRejectedError extends KaiwaError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message, 'rejected')
    this.name = 'SipRejectedError'
  }
}

/** A contact's key is not the one pinned or expected (trust on first use broke). */
export class KeyChangedError extends KaiwaError {
  constructor(message: string) {
    super(message, 'key_changed')
    this.name = 'KeyChangedError'
  }
}

/** A name's closest nodes hold different keys: nothing is pinned until the user chooses. */
export class NameConflictError extends KaiwaError {
  constructor(message: string) {
    super(message, 'conflict')
    this.name = 'NameConflictError'
  }
}

/** The request conflicts with the node's state (e.g. restoring over a claimed account). */
export class ConflictError extends KaiwaError {
  constructor(message: string) {
    super(message, 'conflict')
    this.name = 'ConflictError'
  }
}

/** A service this node needs is not available now (e.g. no supernode for TURN yet). */
export class ServiceUnavailableError extends KaiwaError {
  constructor(message: string) {
    super(message, 'unavailable')
    this.name = 'ServiceUnavailableError'
  }
}
