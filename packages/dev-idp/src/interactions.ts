import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Provider } from 'oidc-provider'
import { escapeHtml, page, readBody, sendHtml } from './http.js'
import { sameSecret } from './secret.js'

export interface InteractionUser {
  id: string
  username: string
  password: string
}

export interface InteractionDeps {
  provider: () => Provider
  issuerPath: string
  findUser: (username: string) => InteractionUser | undefined
}

/** Marker the login form carries so `completeAuthorization()` can recognise it. */
export const LOGIN_FORM_ID = 'dev-idp-login'

function loginPage(
  deps: InteractionDeps,
  uid: string,
  clientLabel: string,
  scope: string | undefined,
  usernameHint: string | undefined,
  error?: string,
): string {
  const action = `${deps.issuerPath}/interaction/${encodeURIComponent(uid)}/login`
  const abort = `${deps.issuerPath}/interaction/${encodeURIComponent(uid)}/abort`
  return page(
    'Sign in — mcp-oauth dev IdP',
    `<h1>Sign in</h1>
<p class="muted"><strong>${escapeHtml(clientLabel)}</strong> wants access${scope ? ` to <code>${escapeHtml(scope)}</code>` : ''}.</p>
${error ? `<p class="err">${escapeHtml(error)}</p>` : ''}
<form id="${LOGIN_FORM_ID}" method="post" action="${escapeHtml(action)}" autocomplete="off">
<label for="username">Username</label><input id="username" type="text" name="username" value="${escapeHtml(usernameHint ?? '')}" autofocus required>
<label for="password">Password</label><input id="password" type="password" name="password" required>
<button type="submit">Sign in and allow</button>
</form>
<p class="muted">Development identity provider: every requested scope is granted after sign-in. <a href="${escapeHtml(abort)}">Cancel</a></p>`,
  )
}

export function errorPage(error: string, description?: string): string {
  return page(
    'Error — mcp-oauth dev IdP',
    `<h1>Something went wrong</h1><p class="err" data-error="${escapeHtml(error)}"><code>${escapeHtml(error)}</code></p>${
      description ? `<p data-error-description="${escapeHtml(description)}">${escapeHtml(description)}</p>` : ''
    }`,
  )
}

/**
 * Serves `GET /interaction/:uid` (login form, or automatic consent), `POST /interaction/:uid/login`
 * and `GET /interaction/:uid/abort`. `rel` is the path relative to the issuer's path.
 */
export async function handleInteraction(
  deps: InteractionDeps,
  req: IncomingMessage,
  res: ServerResponse,
  rel: string,
): Promise<void> {
  const m = /^\/interaction\/([^/]+)(\/login|\/abort)?\/?$/.exec(rel)
  if (!m?.[1]) {
    sendHtml(res, 404, errorPage('not_found'))
    return
  }
  const uid = decodeURIComponent(m[1])
  const action = m[2]
  const provider = deps.provider()
  try {
    const form =
      action === '/login' && req.method === 'POST' ? new URLSearchParams((await readBody(req)).toString('utf8')) : undefined
    const details = await provider.interactionDetails(req, res)
    if (details.uid !== uid) {
      sendHtml(res, 400, errorPage('invalid_request', 'interaction does not match the interaction cookie'))
      return
    }
    const params = details.params as Record<string, string | undefined>
    const clientId = String(params['client_id'] ?? '')

    if (action === '/abort') {
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'End-User aborted interaction' },
        { mergeWithLastSubmission: false },
      )
      return
    }

    if (action === '/login') {
      if (!form) {
        res.writeHead(405, { allow: 'POST' }).end()
        return
      }
      const username = form.get('username') ?? ''
      const password = form.get('password') ?? ''
      const user = deps.findUser(username)
      if (!user || !sameSecret(user.password, password)) {
        const client = await provider.Client.find(clientId).catch(() => undefined)
        sendHtml(
          res,
          401,
          loginPage(deps, uid, client?.clientName ?? clientId, params['scope'], username, 'Invalid username or password.'),
        )
        return
      }
      await provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false })
      return
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end()
      return
    }

    const prompt = details.prompt
    if (prompt.name === 'login') {
      const client = await provider.Client.find(clientId).catch(() => undefined)
      sendHtml(res, 200, loginPage(deps, uid, client?.clientName ?? clientId, params['scope'], params['login_hint']))
      return
    }

    if (prompt.name === 'consent') {
      // Consent is automatic: grant every requested OIDC scope and claim, and every scope requested
      // for each resource indicator (so access tokens for the resource carry them).
      const accountId = details.session?.accountId
      if (!accountId) throw new Error('consent without a logged-in account')
      const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined
      const grant = existing ?? new provider.Grant({ accountId, clientId })
      const d = prompt.details as {
        missingOIDCScope?: string[]
        missingOIDCClaims?: string[]
        missingResourceScopes?: Record<string, string[]>
      }
      if (d.missingOIDCScope?.length) grant.addOIDCScope(d.missingOIDCScope.join(' '))
      if (d.missingOIDCClaims?.length) grant.addOIDCClaims(d.missingOIDCClaims)
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '))
      }
      const grantId = await grant.save()
      await provider.interactionFinished(
        req,
        res,
        { consent: existing ? {} : { grantId } },
        { mergeWithLastSubmission: true },
      )
      return
    }

    sendHtml(res, 400, errorPage('invalid_request', `unsupported interaction prompt "${prompt.name}"`))
  } catch (err) {
    const e = err as { error?: string; error_description?: string; message?: string }
    if (!res.headersSent) {
      sendHtml(res, 400, errorPage(e.error ?? 'invalid_request', e.error_description ?? e.message))
    } else {
      res.destroy()
    }
  }
}
