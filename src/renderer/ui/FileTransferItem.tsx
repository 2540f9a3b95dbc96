/**
 * One file transfer in a conversation: the name and size, an image preview,
 * a progress bar with the rate and time left while it moves, why it waits or
 * stopped, and the buttons its state allows (Accept, Decline, Pause, Resume,
 * Cancel, Save).
 */
import { useState } from 'react'
import type { FileTransferJson } from '../../shared/api/contract.js'
import { toApiError } from '../bridge/api-error.js'
import { saveBlob } from '../files/save-file.js'
import {
  actionsFor,
  formatBytes,
  formatRate,
  formatSecondsLeft,
  isActive,
  percentDone,
} from '../files/transfer-format.js'
import type { TransferAction } from '../files/transfer-format.js'
import type { Upload } from '../files/files-controller.js'
import { t } from '../i18n/t.js'
import type { MessageKey } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { formatStamp } from './format.js'

const LABEL: Record<TransferAction, MessageKey> = {
  accept: 'files.accept',
  decline: 'files.decline',
  pause: 'files.pause',
  resume: 'files.resume',
  cancel: 'files.cancel',
  save: 'files.save',
}

const STATUS: Record<FileTransferJson['status'], MessageKey> = {
  preparing: 'files.statusPreparing',
  offering: 'files.statusOffering',
  awaiting: 'files.statusAwaiting',
  sending: 'files.statusSending',
  queued: 'files.statusQueued',
  mailed: 'files.statusMailed',
  offered: 'files.statusOffered',
  receiving: 'files.statusReceiving',
  interrupted: 'files.statusInterrupted',
  paused: 'files.statusPaused',
  complete: 'files.statusComplete',
  declined: 'files.statusDeclined',
  failed: 'files.statusFailed',
  cancelled: 'files.statusCancelled',
}

function statusText(tr: FileTransferJson): string {
  if (tr.status === 'complete' && tr.direction === 'out') return t('files.statusSent')
  return t(STATUS[tr.status])
}

export function FileTransferItem({ tr, preview }: { tr: FileTransferJson; preview?: string }) {
  const app = useApp()
  const [busy, setBusy] = useState(false)
  const [saveError, setSaveError] = useState<string>()
  const out = tr.direction === 'out'
  // The bar stays, full, once the file is there; an offer or a refusal has none.
  const moving = (isActive(tr) && tr.status !== 'offered') || tr.status === 'complete'
  const percent = percentDone(tr)

  const run = async (action: TransferAction): Promise<void> => {
    setBusy(true)
    try {
      if (action === 'save') {
        setSaveError(undefined)
        // The desktop app saves through its own dialog; in a browser it is a download.
        if ((await app.files.hostSave(tr.id)) === 'none')
          saveBlob(app.win.document, tr.name, await app.files.content(tr.id))
      } else await app.files[action](tr.id)
    } catch (err) {
      setSaveError(toApiError(err).message)
    } finally {
      setBusy(false)
    }
  }

  return (
    <li
      className={`message file-transfer ${out ? 'message-out' : 'message-in'} transfer-${tr.status}`}
      aria-label={tr.name}
    >
      {!out && tr.status === 'offered' && (
        <p className="file-offer">{t('files.offerFrom', { peer: tr.peer })}</p>
      )}
      {preview != null && (
        <img
          className="file-preview"
          src={preview}
          alt={t('files.previewAlt', { name: tr.name })}
        />
      )}
      <p className="file-name">
        <span className="file-title">{tr.name}</span>{' '}
        <span className="file-size">{formatBytes(tr.size)}</span>
      </p>
      {moving && (
        <div className="file-progress">
          <progress
            value={tr.bytesDone}
            max={Math.max(tr.size, 1)}
            aria-label={t('files.progressLabel', { name: tr.name, percent })}
          />
          <span className="file-percent">{percent} %</span>
          {tr.rate > 0 && (
            <span className="file-rate">
              {tr.secondsLeft != null
                ? t('files.rate', {
                    rate: formatRate(tr.rate),
                    left: formatSecondsLeft(tr.secondsLeft),
                  })
                : t('files.rateOnly', { rate: formatRate(tr.rate) })}
            </span>
          )}
        </div>
      )}
      <p className="message-meta">
        <span className="file-status">{statusText(tr)}</span>
        <time dateTime={tr.createdAt}>{formatStamp(tr.createdAt)}</time>
      </p>
      {!out && tr.status === 'offered' && tr.verification === 'new' && (
        <p className="message-note">{t('files.unverified', { peer: tr.peer })}</p>
      )}
      {tr.note != null && tr.status !== 'complete' && (
        <p className={`message-note ${tr.status === 'failed' ? 'note-error' : ''}`}>{tr.note}</p>
      )}
      {saveError != null && (
        <p className="message-note note-error" role="alert">
          {saveError}
        </p>
      )}
      <div className="file-actions">
        {actionsFor(tr).map((a) => (
          <button
            key={a}
            type="button"
            className={`button button-small${a === 'accept' ? ' button-primary' : ''}`}
            disabled={busy}
            onClick={() => void run(a)}
          >
            {t(LABEL[a])}
          </button>
        ))}
      </div>
    </li>
  )
}

export function UploadItem({ upload }: { upload: Upload }) {
  return (
    <li className="message message-out file-transfer transfer-uploading" aria-label={upload.name}>
      <p className="file-name">
        <span className="file-title">{upload.name}</span>{' '}
        <span className="file-size">{formatBytes(upload.size)}</span>
      </p>
      <p className="message-meta">{t('files.uploading', { name: upload.name })}</p>
    </li>
  )
}
