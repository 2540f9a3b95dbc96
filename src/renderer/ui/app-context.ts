/** How screens reach the controllers made by the composition root (app/create-app.ts). */
import { createContext, useContext } from 'react'
import type { AppServices } from '../app/create-app.js'

export const AppContext = createContext<AppServices | null>(null)

export function useApp(): AppServices {
  const app = useContext(AppContext)
  if (app == null) throw new Error('useApp() outside <AppContext.Provider>')
  return app
}
