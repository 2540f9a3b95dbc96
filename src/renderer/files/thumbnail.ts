/**
 * Image previews made in the page from the file itself: the browser decodes
 * the image (createImageBitmap), a canvas scales it down, and the small PNG is
 * shown through a blob: URL (the CSP allows img-src blob:, so no byte of the
 * file is ever served to the page as a document of its own).
 */

/** Makes a preview URL (blob:) of an image; rejects when it does not decode. */
export type Thumbnailer = (image: Blob) => Promise<string>

/** The longest side of a preview, in CSS pixels (twice that in device pixels). */
export const THUMBNAIL_PX = 240

export function createThumbnailer(win: Window, maxPx = THUMBNAIL_PX * 2): Thumbnailer {
  return async (image) => {
    const bitmap = await win.createImageBitmap(image)
    try {
      const scale = Math.min(1, maxPx / Math.max(bitmap.width, bitmap.height, 1))
      const canvas = win.document.createElement('canvas')
      canvas.width = Math.max(1, Math.round(bitmap.width * scale))
      canvas.height = Math.max(1, Math.round(bitmap.height * scale))
      const ctx = canvas.getContext('2d')
      if (ctx == null) throw new Error('no 2D canvas for the preview')
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height)
      const small = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'))
      if (small == null) throw new Error('the preview could not be encoded')
      return URL.createObjectURL(small)
    } finally {
      bitmap.close()
    }
  }
}
