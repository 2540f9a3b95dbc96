/**
 * The account's devices in the control API (issue 15 §3): every device of
 * this account this node knows (itself, those the account's record lists,
 * those removed), and removing one.
 */
import { z } from 'zod'

export const DeviceJsonSchema = z.object({
  peerId: z.string(),
  /** This device. */
  self: z.boolean(),
  /** The account's record lists it now (it published within the last minutes). */
  listed: z.boolean(),
  /** Removed from the account: never synced with, and dropped from the record. */
  removed: z.boolean(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  removedAt: z.string().optional(),
})
export type DeviceJson = z.infer<typeof DeviceJsonSchema>

const Devices = z.object({ devices: z.array(DeviceJsonSchema) })

export const deviceApiContract = {
  devices: { input: z.object({}).strict(), output: Devices },
  /**
   * Remove another device from the account: the other devices stop syncing
   * with it and refuse its sync, and the record stops listing it.
   */
  deviceRemove: {
    input: z.object({ peerId: z.string().min(1).max(100) }).strict(),
    output: Devices,
  },
} as const
