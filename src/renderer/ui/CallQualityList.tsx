/**
 * The live figures of the call in progress: the grade, the media path
 * (Direct or Relayed), where encryption ends, the audio's round trip, jitter
 * and loss, and per video stream (received, sent) its resolution, frame
 * rate, bitrate and loss.
 */
import { t } from '../i18n/t.js'
import type { MessageKey } from '../i18n/t.js'
import type { CallView } from '../call/call-controller.js'
import type { QualityGrade } from '../call/call-quality.js'
import { encryptionLabel } from '../call/call-encryption.js'
import { videoSummary } from '../call/video-quality.js'
import type { VideoStreamQuality } from '../call/video-quality.js'

const GRADE: Record<QualityGrade, MessageKey> = {
  good: 'quality.good',
  fair: 'quality.fair',
  poor: 'quality.poor',
  unknown: 'quality.unknown',
}

const units = {
  fps: (n: number) => t('video.fps', { n }),
  kbps: (n: number) => t('unit.kbps', { n }),
  loss: (n: number) => t('video.loss', { n }),
}

function VideoRow(props: { label: string; q: VideoStreamQuality | undefined; kind: string }) {
  if (props.q == null) return null
  return (
    <div className={`video-stats video-stats-${props.kind}`}>
      <dt>{props.label}</dt>
      <dd>{videoSummary(props.q, units)}</dd>
    </div>
  )
}

export function CallQualityList({ call }: { call: CallView }) {
  const q = call.quality
  return (
    <dl className="call-quality" aria-label={t('call.quality')}>
      <div className={`quality-grade grade-${q?.grade ?? 'unknown'}`}>
        <dt className="sr-only">{t('call.qualityGrade')}</dt>
        <dd>{t(GRADE[q?.grade ?? 'unknown'])}</dd>
      </div>
      <div>
        <dt>{t('call.path')}</dt>
        <dd className={`path path-${call.path}`}>
          {call.path === 'relay'
            ? t('call.relayed')
            : call.path === 'direct'
              ? t('call.direct')
              : t('call.pathUnknown')}
        </dd>
      </div>
      <div>
        <dt>{t('call.encryption')}</dt>
        <dd className={call.anchor != null ? 'encryption-partial' : undefined}>
          {encryptionLabel(call.anchor, call.peer)}
        </dd>
      </div>
      <div>
        <dt>{t('call.rtt')}</dt>
        <dd>{q?.rttMs != null ? t('unit.ms', { n: q.rttMs }) : '–'}</dd>
      </div>
      <div>
        <dt>{t('call.jitter')}</dt>
        <dd>{q?.jitterMs != null ? t('unit.ms', { n: q.jitterMs }) : '–'}</dd>
      </div>
      <div>
        <dt>{t('call.loss')}</dt>
        <dd>{q?.lossPercent != null ? t('unit.percent', { n: q.lossPercent }) : '–'}</dd>
      </div>
      <VideoRow label={t('video.received')} q={q?.video.inbound} kind="in" />
      {call.video.source !== 'none' && (
        <VideoRow label={t('video.sent')} q={q?.video.outbound} kind="out" />
      )}
    </dl>
  )
}
