import type { Configuration } from 'oidc-provider'
import { escapeHtml, page } from './http.js'
import { errorPage } from './interactions.js'

type Features = NonNullable<Configuration['features']>
type DevicePages = Pick<NonNullable<Features['deviceFlow']>, 'userCodeInputSource' | 'userCodeConfirmSource' | 'successSource'>
type LogoutPages = Pick<NonNullable<Features['rpInitiatedLogout']>, 'logoutSource' | 'postLogoutSuccessSource'>

/**
 * The pages oidc-provider renders itself (device flow, logout, errors), in the dev IdP's look. The
 * login and consent interaction lives in interactions.ts; `browserless.ts` recognises these pages by
 * their form ids and headings, so change both together.
 */
export const devicePages: DevicePages = {
  async userCodeInputSource(ctx, form, _out, err) {
    ctx.body = page(
      'Device sign-in',
      `<h1>Device sign-in</h1>${err ? '<p class="err">That code is not valid. Try again.</p>' : '<p>Enter the code shown on your device.</p>'}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
    )
  },
  async userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
    ctx.body = page(
      'Confirm device',
      `<h1>Confirm device</h1><p><strong>${escapeHtml(client.clientName ?? client.clientId)}</strong> shows the code <code>${escapeHtml(userCode)}</code>.</p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button><button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`,
    )
  },
  async successSource(ctx) {
    ctx.body = page('Signed in', '<h1>Signed in</h1><p>You can return to your device.</p>')
  },
}

export const logoutPages: LogoutPages = {
  async logoutSource(ctx, form) {
    ctx.body = page(
      'Sign out',
      `<h1>Sign out?</h1>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`,
    )
  },
  async postLogoutSuccessSource(ctx) {
    ctx.body = page('Signed out', '<h1>Signed out</h1>')
  },
}

export const renderError: NonNullable<Configuration['renderError']> = async (ctx, out) => {
  ctx.type = 'html'
  ctx.body = errorPage(String(out.error), out.error_description ? String(out.error_description) : undefined)
}
