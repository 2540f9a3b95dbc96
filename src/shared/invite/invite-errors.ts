/**
 * Why an invite link was refused. `reason` lets callers (and tests) tell a
 * tampered link from an expired one without reading the message.
 */
import { KaiwaError } from '../errors.js'

export type InviteRefusal =
  'not_invite' | 'malformed' | 'name' | 'fingerprint' | 'supernodes' | 'expired' | 'signature'

export class InvalidInviteError extends KaiwaError {
  readonly reason: InviteRefusal
  constructor(reason: InviteRefusal, message: string) {
    super(`invalid invite link: ${message}`, 'invalid_input')
    this.name = 'InvalidInviteError'
    this.reason = reason
  }
}
