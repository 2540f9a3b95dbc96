/** The tray icon and its menu, rebuilt from tray-model.ts whenever the state changes. */
import { Menu, Tray, nativeImage } from 'electron'
import type { MenuItemConstructorOptions, NativeImage } from 'electron'
import { trayIconBitmap } from './tray-icon.js'
import { trayMenu, trayTooltip } from './tray-model.js'
import type { TrayItem, TrayState } from './tray-model.js'

export interface TrayActions {
  show(): void
  quit(): void
  setAutostart(enabled: boolean): void
}

function trayImage(): NativeImage {
  // Linux tray hosts draw about 22-24 px; Windows and macOS 16 px (and 32 px on HiDPI).
  const size = process.platform === 'linux' ? 24 : 16
  const image = nativeImage.createFromBitmap(trayIconBitmap(size), { width: size, height: size })
  image.addRepresentation({
    scaleFactor: 2,
    width: size * 2,
    height: size * 2,
    buffer: trayIconBitmap(size * 2),
  })
  return image
}

function menuItem(item: TrayItem, actions: TrayActions): MenuItemConstructorOptions {
  switch (item.type) {
    case 'label':
      return { label: item.label, enabled: false }
    case 'separator':
      return { type: 'separator' }
    case 'action':
      return { label: item.label, click: item.id === 'quit' ? actions.quit : actions.show }
    case 'toggle':
      return {
        label: item.label,
        type: 'checkbox',
        checked: item.checked,
        click: (mi) => actions.setAutostart(mi.checked),
      }
  }
}

export class KaiwaTray {
  readonly #tray: Tray
  readonly #actions: TrayActions

  constructor(state: TrayState, actions: TrayActions) {
    this.#actions = actions
    this.#tray = new Tray(trayImage())
    // Windows and most Linux trays: a left click brings the window back.
    this.#tray.on('click', () => actions.show())
    this.update(state)
  }

  update(state: TrayState): void {
    this.#tray.setToolTip(trayTooltip(state))
    this.#tray.setContextMenu(
      Menu.buildFromTemplate(trayMenu(state).map((i) => menuItem(i, this.#actions))),
    )
  }

  destroy(): void {
    this.#tray.destroy()
  }
}
