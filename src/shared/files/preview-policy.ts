/**
 * Which files get an image preview, shared by the page (which decodes it) and
 * the desktop app's main process (which hands it the bytes of a verified
 * file): raster types a browser only ever decodes (never SVG: it can carry
 * script), up to a size a conversation can afford to read back.
 */

/** Image types previewed. */
export const PREVIEW_IMAGE_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
])

/** Larger images are not read back for a preview. */
export const PREVIEW_MAX_BYTES = 25 * 1024 * 1024

export function isPreviewable(mime: string, size: number): boolean {
  return PREVIEW_IMAGE_TYPES.has(mime) && size <= PREVIEW_MAX_BYTES
}
