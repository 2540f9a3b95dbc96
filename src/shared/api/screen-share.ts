/**
 * Screen sharing in the desktop app (issue 14 §2): the screens and windows
 * the main process lists with Electron's desktopCapturer, as they cross the
 * preload bridge to the renderer's picker, and the id the user picks on the
 * way back. One zod definition, checked on both sides: the main process
 * validates the chosen id (ipc-validation.ts) and the renderer the list.
 */
import { z } from 'zod'

/** desktopCapturer ids: `screen:<n>:<n>` or `window:<n>:<n>` (Chromium's DesktopMediaID). */
export const ScreenSourceIdSchema = z
  .string()
  .max(100)
  .regex(/^(?:screen|window):\d+:\d+$/, 'not a screen or window id')

/** A thumbnail is a small PNG data URL; bigger is refused rather than shown. */
export const MAX_THUMBNAIL_CHARS = 200_000

export const ScreenSourceSchema = z
  .object({
    id: ScreenSourceIdSchema,
    name: z.string().max(300),
    kind: z.enum(['screen', 'window']),
    thumbnail: z
      .string()
      .max(MAX_THUMBNAIL_CHARS)
      .regex(/^data:image\/png;base64,[A-Za-z0-9+/=]*$/)
      .optional(),
  })
  .strict()
export type ScreenSource = z.infer<typeof ScreenSourceSchema>

/** At most this many sources are offered (a desktop with hundreds of windows lists the first). */
export const MAX_SCREEN_SOURCES = 64
export const ScreenSourcesSchema = z.array(ScreenSourceSchema).max(MAX_SCREEN_SOURCES)

/** How long a picked source waits for the page's getDisplayMedia() call, ms. */
export const SCREEN_CHOICE_TTL_MS = 10_000
