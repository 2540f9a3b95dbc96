// Lets bench/nat.mjs import the NAT lab from test/natlab/*.ts as it is: Node 22
// strips the types itself (the lab uses erasable syntax only), and this hook
// maps the TypeScript-style `./x.js` specifiers in those files to `./x.ts`.
import { existsSync } from 'node:fs'
import { registerHooks } from 'node:module'
import { fileURLToPath } from 'node:url'

registerHooks({
  resolve(specifier, context, next) {
    if (
      specifier.startsWith('.') &&
      specifier.endsWith('.js') &&
      context.parentURL?.endsWith('.ts')
    ) {
      const url = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL)
      if (existsSync(fileURLToPath(url))) return next(url.href, context)
    }
    return next(specifier, context)
  },
})
