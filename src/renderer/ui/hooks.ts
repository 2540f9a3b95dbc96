/** Small React hooks over the UI's stores and timers. */
import { useEffect, useState, useSyncExternalStore } from 'react'
import type { Store } from '../base/store.js'

export function useStore<T>(store: Store<T>): T {
  return useSyncExternalStore(store.subscribe, store.get, store.get)
}

/** The current time, refreshed every `everyMs` while mounted (call timers, "2 min ago"). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs)
    return () => clearInterval(timer)
  }, [everyMs])
  return now
}

/** Copy text to the clipboard; `copied` is true for two seconds after it worked. */
export function useCopy(win: Window): { copied: boolean; copy: (text: string) => Promise<void> } {
  const [copied, setCopied] = useState(false)
  const copy = async (text: string): Promise<void> => {
    try {
      await win.navigator.clipboard.writeText(text)
      setCopied(true)
      setTimeout(() => setCopied(false), 2000)
    } catch {
      setCopied(false)
    }
  }
  return { copied, copy }
}
