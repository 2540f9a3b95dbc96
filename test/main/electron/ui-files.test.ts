import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveUiFile, uiContentType } from '../../../src/main/electron/ui-files.js'

const ROOT = '/opt/kaiwa/dist/ui'

describe('UI file resolution', () => {
  it('maps app://kaiwa paths into the UI directory', () => {
    expect(resolveUiFile('app://kaiwa/', ROOT)).toBe(join(ROOT, 'index.html'))
    expect(resolveUiFile('app://kaiwa', ROOT)).toBe(join(ROOT, 'index.html'))
    expect(resolveUiFile('app://kaiwa/index.html?x#y', ROOT)).toBe(join(ROOT, 'index.html'))
    expect(resolveUiFile('app://kaiwa/assets/index-abc.js', ROOT)).toBe(
      join(ROOT, 'assets', 'index-abc.js'),
    )
    expect(resolveUiFile('app://kaiwa/assets/a%20b.css', ROOT)).toBe(
      join(ROOT, 'assets', 'a b.css'),
    )
  })

  it('never leaves it', () => {
    for (const url of [
      'app://kaiwa/../secret',
      'app://kaiwa/%2e%2e/secret',
      'app://kaiwa/assets/%2e%2e%2f%2e%2e%2fsecret',
      'app://kaiwa/..%2f..%2fetc%2fpasswd',
      'app://kaiwa/assets%5c..%5c..%5csecret',
      'app://kaiwa/a%00.js',
      'app://kaiwa/%E0%A4%A',
      'app://other/index.html',
      'file:///opt/kaiwa/dist/ui/index.html',
    ]) {
      const file = resolveUiFile(url, ROOT)
      if (file !== undefined) expect(file.startsWith(`${ROOT}/`), url).toBe(true)
      else expect(file, url).toBeUndefined()
    }
    // The URL parser resolves a literal (or %2e) `..` against the root, as a browser does.
    expect(resolveUiFile('app://kaiwa/../secret', ROOT)).toBe(join(ROOT, 'secret'))
    expect(resolveUiFile('app://kaiwa/..%2f..%2fetc%2fpasswd', ROOT)).toBeUndefined()
    expect(resolveUiFile('app://kaiwa/assets/%2e%2e%2f%2e%2e%2fsecret', ROOT)).toBeUndefined()
    expect(resolveUiFile('app://kaiwa/a%00.js', ROOT)).toBeUndefined()
  })

  it('types files for nosniff', () => {
    expect(uiContentType('/x/index.html')).toBe('text/html; charset=utf-8')
    expect(uiContentType('/x/a.JS')).toBe('text/javascript; charset=utf-8')
    expect(uiContentType('/x/ring.ogg')).toBe('audio/ogg')
    expect(uiContentType('/x/blob.bin')).toBe('application/octet-stream')
  })
})
