/**
 * The desktop app's screen picker: the screens and windows the main process
 * listed (desktopCapturer), each a button with its thumbnail. The click on
 * one is the user gesture the main process requires before it hands that
 * source to getDisplayMedia. On the web the browser shows its own picker.
 */
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { Dialog } from './Dialog.js'
import { useStore } from './hooks.js'

export function ScreenPicker() {
  const app = useApp()
  const { picker } = useStore(app.calls.video.store)
  if (picker == null) return null
  return (
    <Dialog
      title={t('video.pickerTitle')}
      className="screen-picker"
      onClose={() => app.calls.video.closePicker()}
    >
      {picker.length === 0 && <p>{t('video.pickerEmpty')}</p>}
      <ul className="screen-sources">
        {picker.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              className="screen-source"
              onClick={() => void app.calls.video.shareSource(s.id)}
            >
              {s.thumbnail != null && <img src={s.thumbnail} alt="" />}
              <span>
                {s.kind === 'screen'
                  ? t('video.pickerScreen', { name: s.name })
                  : t('video.pickerWindow', { name: s.name })}
              </span>
            </button>
          </li>
        ))}
      </ul>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={() => app.calls.video.closePicker()}>
          {t('common.cancel')}
        </button>
      </div>
    </Dialog>
  )
}
