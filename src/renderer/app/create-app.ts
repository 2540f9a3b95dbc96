/**
 * The renderer's composition root: every controller is made here, once, from
 * the bridge and the browser objects, and wired to the others. Screens get
 * the result through React context (ui/app-context.ts); nothing else holds
 * state globally.
 */
import type { KaiwaBridge } from '../../shared/api/bridge.js'
import { createAvailabilityChecker } from '../account/availability.js'
import type { Availability, AvailabilityChecker } from '../account/availability.js'
import { createCallController } from '../call/call-controller.js'
import type { CallController } from '../call/call-controller.js'
import { createGroupCallController } from '../call/group-call.js'
import type { GroupCallController } from '../call/group-call.js'
import { groupCallMedia } from '../call/group-call-media.js'
import { createRemoteAudio } from '../call/remote-audio.js'
import { createTonePlayer } from '../call/tones.js'
import { createChatController } from '../chat/chat-controller.js'
import type { ChatController } from '../chat/chat-controller.js'
import { createGroupsController } from '../groups/groups-controller.js'
import { createFilesController } from '../files/files-controller.js'
import type { FilesController } from '../files/files-controller.js'
import { createThumbnailer } from '../files/thumbnail.js'
import type { GroupsController } from '../groups/groups-controller.js'
import { createContactsController } from '../contacts/contacts-controller.js'
import { formatKaiwaLink } from '../contacts/kaiwa-link.js'
import type { ContactsController } from '../contacts/contacts-controller.js'
import { createDevicesController } from '../settings/devices-controller.js'
import type { DevicesController } from '../settings/devices-controller.js'
import { createSettingsController } from '../settings/settings-controller.js'
import type { SettingsController } from '../settings/settings-controller.js'
import { createThemeController } from '../settings/theme.js'
import type { ThemeController } from '../settings/theme.js'
import type { Platform } from '../base/platform.js'
import { createPrefs } from '../base/prefs.js'
import { createSessionController } from './session-controller.js'
import type { SessionController } from './session-controller.js'

export interface AppServices {
  bridge: KaiwaBridge
  platform: Platform
  win: Window
  session: SessionController
  calls: CallController
  groupCall: GroupCallController
  chat: ChatController
  groups: GroupsController
  files: FilesController
  contacts: ContactsController
  settings: SettingsController
  devices: DevicesController
  theme: ThemeController
  /** A fresh availability checker for the claim form. */
  availability(onChange: (a: Availability) => void): AvailabilityChecker
  stop(): Promise<void>
}

export function createApp(bridge: KaiwaBridge, platform: Platform, win: Window): AppServices {
  const log = (text: string): void => console.warn(`kaiwa: ${text}`)
  const prefs = createPrefs(win.localStorage)
  const tones = createTonePlayer()
  const audio = createRemoteAudio()
  const devices = createDevicesController({
    media: win.navigator.mediaDevices,
    prefs,
    sinkSupported: audio.sinkSupported,
    applySink: async (id) => {
      tones.setSink(id)
      await audio.setSink(id)
    },
  })
  const session = createSessionController({ bridge, log })
  const calls = createCallController({
    bridge,
    platform,
    tones,
    audio,
    micId: () => devices.currentMic(),
    cameraId: () => devices.currentCamera(),
    videoKbps: () => devices.store.get().videoKbps,
    media: win.navigator.mediaDevices,
    log,
    claimIncoming: (c) => groupCall.claim(c),
  })
  const groupCall = createGroupCallController({
    calls,
    platform,
    log,
    ...groupCallMedia({
      bridge,
      micId: () => devices.currentMic(),
      cameraId: () => devices.currentCamera(),
      media: win.navigator.mediaDevices,
      log,
    }),
  })
  const chat = createChatController({ bridge, platform, log })
  const groups = createGroupsController(bridge)
  const files = createFilesController({
    bridge,
    thumbnail: createThumbnailer(win),
    revoke: (url) => URL.revokeObjectURL(url),
  })
  void files.refresh()
  const contacts = createContactsController(bridge)
  const settings = createSettingsController(bridge)
  const theme = createThemeController(win, prefs)

  session.onUserAgent((ua) => {
    const offChat = chat.attach(ua)
    const offCalls = calls.attach(ua)
    const offGroupCall = groupCall.attach(ua)
    return () => {
      offChat()
      offCalls()
      offGroupCall()
    }
  })
  // Electron: a kaiwa: link opened the app; offer to add that contact.
  const offLinks = bridge.onLink((link) => contacts.offer(link.invite ?? formatKaiwaLink(link)))
  const offEvents = bridge.onEvent((e) => {
    if (e.event === 'message') chat.onNodeMessage(e.data)
  })
  // Events sent while the node was unreachable are lost: reload what they would have changed.
  let wasDown = false
  const offConnection = bridge.onConnection((state) => {
    if (state !== 'open') wasDown = true
    else if (wasDown) {
      wasDown = false
      chat.resync()
      void contacts.refresh()
      void calls.refreshHistory()
    }
  })
  const onFocus = (): void => chat.seen()
  win.addEventListener('focus', onFocus)

  return {
    bridge,
    platform,
    win,
    session,
    calls,
    groupCall,
    chat,
    groups,
    files,
    contacts,
    settings,
    devices,
    theme,
    availability: (onChange) =>
      createAvailabilityChecker({
        lookup: async (name) => (await bridge.call('lookup', { name })).record,
        ownFingerprint: () => session.store.get().status?.fingerprint,
        onChange,
      }),
    async stop() {
      offEvents()
      offConnection()
      groups.dispose()
      files.dispose()
      offLinks()
      win.removeEventListener('focus', onFocus)
      theme.dispose()
      tones.stop()
      await session.stop()
    },
  }
}
