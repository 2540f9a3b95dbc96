/**
 * What views share about moving around the main screen: its tabs and the
 * `Navigate` actions MainScreen hands to each view. Kept apart from every view
 * so that views depend on it and not on MainScreen (which imports them).
 */

export type Tab = 'contacts' | 'messages' | 'groups' | 'calls' | 'settings'

export interface Navigate {
  /** Open the conversation with `peer` on the Messages tab. */
  chat(peer: string): void
  /** Call `peer`; `video`: with the camera on. */
  call(peer: string, opts?: { video?: boolean }): void
  /** The pointer is on a Call button for `peer`: warm the call (route-warmer.ts). */
  aboutToCall(peer: string): void
}
