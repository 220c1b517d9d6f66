/**
 * The device flow (RFC 8628) against the MCP server's authorization server: register once (DCR) unless a client
 * id is given, ask for a user code, let the user confirm it in any browser, poll, keep the tokens; later, hand out
 * a fresh access token, refreshing it with the stored refresh token.
 */
import * as oauth from 'oauth4webapi'
import { discover, httpOptions, type Discovered } from './discover.js'
import { LoginError } from './errors.js'
import type { StoredLogin, TokenFile } from './token-store.js'

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
/** A stored token is used until this many seconds before it expires. */
const EXPIRY_MARGIN = 60

export interface LoginOptions {
  /** The MCP endpoint, e.g. https://mcp.example.com/mcp. */
  mcpUrl: string
  store?: TokenFile
  /** A pre-registered public client id (else DCR, once per issuer). */
  clientId?: string
  /** Scopes; default: the server's 401 `scope`, else its PRM `scopes_supported`. */
  scopes?: string[]
  /** Shown to the user: the code and where to enter it. */
  onCode(code: { userCode: string; verificationUri: string; verificationUriComplete?: string; expiresIn: number }): void
  /** Progress lines (discovery, registration, polling). */
  onProgress?(message: string): void
  /** Default: setTimeout. */
  sleep?(ms: number): Promise<void>
}

function errorText(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError) return `${err.error}${err.error_description ? `: ${err.error_description}` : ''} (HTTP ${err.status})`
  return (err as Error).message
}

async function clientIdFor(d: Discovered, options: LoginOptions): Promise<string> {
  if (options.clientId) return options.clientId
  const known = await options.store?.client(d.issuer)
  if (known) return known
  if (!d.as.registration_endpoint) {
    throw new LoginError('ERR_LOGIN_NO_CLIENT', `${d.issuer} has no registration endpoint: register a public client with the device_code grant there and pass --client-id`)
  }
  const res = await fetch(d.as.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      client_name: 'mcp-oauth login (command line)',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
      response_types: [],
      redirect_uris: [],
    }),
    signal: AbortSignal.timeout(10_000),
  })
  const body = (await res.json().catch(() => ({}))) as { client_id?: unknown; error?: string; error_description?: string }
  if (res.status !== 201 || typeof body.client_id !== 'string') {
    throw new LoginError('ERR_LOGIN_NO_CLIENT', `registration at ${d.issuer} failed (HTTP ${res.status}${body.error ? ` ${body.error}` : ''}${body.error_description ? `: ${body.error_description}` : ''}); pass --client-id`)
  }
  options.onProgress?.(`registered as ${body.client_id}`)
  await options.store?.saveClient(d.issuer, body.client_id)
  return body.client_id
}

function stored(d: Discovered, clientId: string, tokens: oauth.TokenEndpointResponse, previous?: StoredLogin): StoredLogin {
  const login: StoredLogin = { resource: d.resource, issuer: d.issuer, clientId, accessToken: tokens.access_token }
  const refresh = tokens.refresh_token ?? previous?.refreshToken
  if (refresh) login.refreshToken = refresh
  if (typeof tokens.expires_in === 'number') login.expiresAt = Math.floor(Date.now() / 1000) + tokens.expires_in
  if (typeof tokens.scope === 'string') login.scope = tokens.scope
  return login
}

/** Sign in through the device flow; resolves with what was stored (or would be). */
export async function login(options: LoginOptions): Promise<StoredLogin> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const d = await discover(options.mcpUrl)
  options.onProgress?.(`authorization server: ${d.issuer}`)
  if (!d.as.device_authorization_endpoint) {
    throw new LoginError(
      'ERR_LOGIN_NO_DEVICE_FLOW',
      `${d.issuer} offers no device flow (its metadata has no device_authorization_endpoint), so a terminal cannot sign in to ${options.mcpUrl}. Use an MCP client with a browser, enable the device flow at the IdP, or put @mcp-oauth/bridge in front of it (it always offers one).`,
    )
  }
  const clientId = await clientIdFor(d, options)
  const client: oauth.Client = { client_id: clientId }
  const scopes = options.scopes ?? d.scopes
  const params: Record<string, string> = { resource: d.resource }
  if (scopes.length) params['scope'] = scopes.join(' ')
  let device: oauth.DeviceAuthorizationResponse
  try {
    const res = await oauth.deviceAuthorizationRequest(d.as, client, oauth.None(), params, httpOptions(d.as.device_authorization_endpoint))
    device = await oauth.processDeviceAuthorizationResponse(d.as, client, res)
  } catch (err) {
    throw new LoginError('ERR_LOGIN_AS', `the device authorization request failed: ${errorText(err)}`, { cause: err })
  }
  options.onCode({
    userCode: device.user_code,
    verificationUri: device.verification_uri,
    ...(device.verification_uri_complete ? { verificationUriComplete: device.verification_uri_complete } : {}),
    expiresIn: device.expires_in,
  })
  let interval = (device.interval ?? 5) * 1000
  const deadline = Date.now() + device.expires_in * 1000
  for (;;) {
    await sleep(interval)
    if (Date.now() > deadline) throw new LoginError('ERR_LOGIN_EXPIRED', 'the code expired before it was confirmed: run the login again')
    try {
      const res = await oauth.deviceCodeGrantRequest(d.as, client, oauth.None(), device.device_code, httpOptions(d.as.token_endpoint))
      const tokens = await oauth.processDeviceCodeResponse(d.as, client, res)
      const login = stored(d, clientId, tokens)
      await options.store?.saveLogin(login)
      return login
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError && err.error === 'authorization_pending') continue
      if (err instanceof oauth.ResponseBodyError && err.error === 'slow_down') {
        interval += 5_000
        continue
      }
      if (err instanceof oauth.ResponseBodyError && err.error === 'access_denied') throw new LoginError('ERR_LOGIN_DENIED', 'the sign-in was refused in the browser', { cause: err })
      if (err instanceof oauth.ResponseBodyError && err.error === 'expired_token') throw new LoginError('ERR_LOGIN_EXPIRED', 'the code expired before it was confirmed: run the login again', { cause: err })
      throw new LoginError('ERR_LOGIN_AS', `the token request failed: ${errorText(err)}`, { cause: err })
    }
  }
}

/**
 * A valid access token for `mcpUrl` from the store: the stored one while it has more than a minute left, else a
 * refreshed one (stored again, with the rotated refresh token).
 */
export async function accessToken(options: { mcpUrl: string; store: TokenFile; resource?: string }): Promise<StoredLogin> {
  const resource = options.resource ?? (await discover(options.mcpUrl)).resource
  const current = await options.store.login(resource)
  if (!current) throw new LoginError('ERR_LOGIN_NO_TOKEN', `no stored token for ${resource}: run mcp-oauth login ${options.mcpUrl}`)
  const now = Math.floor(Date.now() / 1000)
  if (current.expiresAt === undefined || current.expiresAt - EXPIRY_MARGIN > now) return current
  if (!current.refreshToken) throw new LoginError('ERR_LOGIN_NO_TOKEN', `the stored token for ${resource} expired and there is no refresh token: run mcp-oauth login ${options.mcpUrl}`)
  const d = await discover(options.mcpUrl)
  const client: oauth.Client = { client_id: current.clientId }
  try {
    const res = await oauth.refreshTokenGrantRequest(d.as, client, oauth.None(), current.refreshToken, { ...httpOptions(d.as.token_endpoint), additionalParameters: { resource } })
    const login = stored(d, current.clientId, await oauth.processRefreshTokenResponse(d.as, client, res), current)
    await options.store.saveLogin(login)
    return login
  } catch (err) {
    throw new LoginError('ERR_LOGIN_NO_TOKEN', `the stored token for ${resource} could not be refreshed (${errorText(err)}): run mcp-oauth login ${options.mcpUrl}`, { cause: err })
  }
}
