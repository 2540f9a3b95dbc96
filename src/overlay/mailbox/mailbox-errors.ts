/** Why a MailboxStore refused mail (the mailbox server maps them to error codes). */
import { KaiwaError } from '../../shared/errors.js'

/** The recipient's mailbox, the sender's allowance or this supernode's mail storage is full. */
export class MailboxFullError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'MailboxFullError'
  }
}

/** The sender name stored too much mail too quickly. */
export class MailRateLimitedError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'MailRateLimitedError'
  }
}
