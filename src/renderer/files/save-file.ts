/** Hand a file the node sent the page to the browser's own downloads (a blob: URL, revoked later). */
export function saveBlob(doc: Document, name: string, blob: Blob): void {
  const win = doc.defaultView
  if (win == null) return
  const url = win.URL.createObjectURL(blob)
  const a = doc.createElement('a')
  a.href = url
  a.download = name
  a.rel = 'noopener'
  doc.body.append(a)
  a.click()
  a.remove()
  // Revoke later: some browsers start the download only after click() returns.
  setTimeout(() => win.URL.revokeObjectURL(url), 30_000)
}
