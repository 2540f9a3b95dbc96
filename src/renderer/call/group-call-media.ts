/**
 * What a group call needs from the browser, made once by the composition
 * root: ICE servers and constraints per pair (as the call controller's own),
 * the camera for the self view, and one audio element per pair.
 */
import type { KaiwaBridge } from '../../shared/api/bridge.js'
import { audioConstraints } from '../sip/media-handler.js'
import type { GroupCallDeps } from './group-call.js'
import { fetchIceServers } from './ice-servers.js'
import { createRemoteAudio } from './remote-audio.js'
import { cameraConstraints } from './video-controller.js'

export interface GroupCallMediaInit {
  bridge: KaiwaBridge
  micId(): string | undefined
  cameraId(): string | undefined
  media: MediaDevices | undefined
  log(text: string): void
}

export function groupCallMedia(
  init: GroupCallMediaInit,
): Pick<GroupCallDeps, 'media' | 'camera' | 'makeAudio'> {
  return {
    async media(video) {
      return {
        iceServers: await fetchIceServers(init.bridge, init.log),
        audio: audioConstraints(init.micId()),
        ...(video ? { video: cameraConstraints(init.cameraId()) } : {}),
      }
    },
    async camera() {
      if (init.media?.getUserMedia == null) throw new Error('this browser has no camera access')
      const stream = await init.media.getUserMedia({ video: cameraConstraints(init.cameraId()) })
      const track = stream.getVideoTracks()[0]
      if (track == null) throw new Error('no camera track')
      return track
    },
    makeAudio: () => createRemoteAudio(),
  }
}
