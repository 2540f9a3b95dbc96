/**
 * The strings of video calls and screen sharing (issue 14), in English; en.ts
 * spreads them into the one table t() reads. A failure says what happened
 * and what the user can do next.
 */
export const enVideo = {
  'dial.videoCall': 'Video call',
  'incoming.answerVideo': 'Answer with video',
  'incoming.withVideo': 'Video call: answer with video to send your camera too.',

  'video.camera': 'Camera',
  'video.shareScreen': 'Share screen',
  'video.fullScreen': 'Full screen',
  'video.whichCamera': 'Camera to use',
  'video.remote': 'Video from {peer}',
  'video.self': 'Your camera',
  'video.selfScreen': 'Your shared screen',
  'video.waiting': 'Waiting for video from {peer}…',
  'video.unavailable':
    'Video is not available with {peer}: their app or SIP phone takes audio only. The call goes on with audio.',
  'video.unavailableNow':
    'Video is not available with this person: their app or SIP phone takes audio only. The call goes on with audio.',
  'video.cameraDenied':
    'Kaiwa may not use your camera. Allow camera access for this page in the browser (the icon in the address bar), then turn Camera on again.',
  'video.screenDenied':
    'Screen sharing was cancelled or not allowed. Press Share screen to try again.',
  'video.cameraMissing':
    'No camera found. Connect one, pick it in Settings → Video, and try again.',
  'video.cameraBusy': 'Your camera is in use by another application. Close it and try again.',
  'video.noScreenShare':
    'This browser cannot share the screen. Use Chromium, Firefox or the Kaiwa desktop app.',
  'video.failed': 'Video could not be changed ({reason}). Try again.',
  'video.relayLoss':
    "Video was turned off: the relay carrying this call (a supernode's TURN server) lost {loss} % of the packets. The call goes on with audio; try Camera again later.",
  'video.relayBandwidth':
    "Video was turned off: the relay carrying this call (a supernode's TURN server) let only {kbps} kbit/s through. The call goes on with audio; try Camera again later.",
  'video.received': 'Video received',
  'video.sent': 'Video sent',
  'video.fps': '{n} fps',
  'video.loss': '{n} % loss',
  'video.pickerTitle': 'Share your screen',
  'video.pickerScreen': 'Entire screen: {name}',
  'video.pickerWindow': 'Window: {name}',
  'video.pickerEmpty': 'There is no screen or window to share.',

  'settings.video': 'Video',
  'settings.camera': 'Camera',
  'settings.cameraN': 'Camera {n}',
  'settings.videoCap': 'Video bitrate cap',
  'settings.videoCapNone': 'No cap',
  'settings.videoCapHelp':
    'The most your camera or shared screen may send; congestion control lowers it when the network needs. 1.5 Mbit/s fits every relay at its default limits.',
} as const
