/** Save text as a file the user downloads (backups, logs): a Blob URL, no server round trip. */
export function downloadText(
  doc: Document,
  filename: string,
  text: string,
  type = 'text/plain',
): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }))
  const a = doc.createElement('a')
  a.href = url
  a.download = filename
  a.rel = 'noopener'
  doc.body.append(a)
  a.click()
  a.remove()
  // Revoke later: some browsers start the download only after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/** A date for file names: 2025-01-31-1405. */
export function fileStamp(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}`
}
