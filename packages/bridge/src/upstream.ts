/**
 * The upstream leg: the bridge as ONE confidential client of the user's IdP (oauth4webapi). OpenID discovery
 * when the preset has it, explicit endpoints plus a user-info call otherwise (GitHub). PKCE S256 upstream
 * when the IdP supports it, client secret always; RFC 9207 `iss` checked when the IdP sends or promises it.
 */
import * as oauth from 'oauth4webapi'
import type { UpstreamConfig } from './presets.js'

/** Why an upstream step failed, as the MCP client will be told (RFC 6749 §4.1.2.1). */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError'
  constructor(
    /** OAuth error code for the MCP client: access_denied, temporarily_unavailable or server_error. */
    readonly error: 'access_denied' | 'temporarily_unavailable' | 'server_error' | 'invalid_request',
    /** Safe to show (never a token, never the upstream's raw body). */
    readonly description: string,
    options?: { cause?: unknown },
  ) {
    super(description, options)
  }
}

export interface UpstreamTokens {
  access_token: string
  token_type?: string
  refresh_token?: string
  /** Seconds since the epoch. */
  expires_at?: number
  /** What the upstream granted (its `scope`), when it said. */
  scope?: string
}

export interface UpstreamLogin {
  subject: string
  claims: Record<string, unknown>
  tokens: UpstreamTokens
}

export interface UpstreamTransaction {
  state: string
  codeVerifier?: string
  nonce?: string
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])
const MAX_USERINFO_BYTES = 64 * 1024

function isLoopbackHttp(url: string): boolean {
  try {
    const u = new URL(url)
    return u.protocol === 'http:' && LOOPBACK.has(u.hostname)
  } catch {
    return false
  }
}

function toTokens(response: oauth.TokenEndpointResponse): UpstreamTokens {
  const tokens: UpstreamTokens = { access_token: response.access_token, token_type: response.token_type }
  if (response.refresh_token) tokens.refresh_token = response.refresh_token
  if (typeof response.expires_in === 'number') tokens.expires_at = Math.floor(Date.now() / 1000) + response.expires_in
  if (typeof response.scope === 'string') tokens.scope = response.scope
  return tokens
}

/** Map anything thrown by fetch / oauth4webapi to what the user and the MCP client may see. */
export function classify(err: unknown, step: string): UpstreamError {
  if (err instanceof UpstreamError) return err
  if (err instanceof oauth.AuthorizationResponseError) {
    const code = err.error === 'access_denied' ? 'access_denied' : 'server_error'
    return new UpstreamError(code, `the identity provider answered ${err.error}${code === 'access_denied' ? ' (the user did not allow access)' : ''}`, { cause: err })
  }
  if (err instanceof oauth.ResponseBodyError) {
    if (err.status >= 500) return new UpstreamError('temporarily_unavailable', `the identity provider failed (${step}: HTTP ${err.status})`, { cause: err })
    return new UpstreamError('server_error', `the identity provider refused the ${step} (${err.error})`, { cause: err })
  }
  const e = err as { name?: string; code?: string; cause?: { status?: number } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new UpstreamError('temporarily_unavailable', `the identity provider did not answer in time (${step})`, { cause: err })
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return new UpstreamError('temporarily_unavailable', `the identity provider could not be reached (${step})`, { cause: err })
  }
  if (e?.code === oauth.RESPONSE_IS_NOT_CONFORM && typeof e.cause?.status === 'number' && e.cause.status >= 500) {
    return new UpstreamError('temporarily_unavailable', `the identity provider failed (${step}: HTTP ${e.cause.status})`, { cause: err })
  }
  if (e?.code === oauth.INVALID_RESPONSE && /"iss"/.test(String((err as Error).message))) {
    return new UpstreamError('server_error', `the authorization response did not come from the expected identity provider (issuer mismatch, ${step})`, { cause: err })
  }
  return new UpstreamError('server_error', `the identity provider sent an answer the bridge cannot use (${step})`, { cause: err })
}

export class Upstream {
  readonly #config: UpstreamConfig
  readonly #redirectUri: string
  readonly #client: oauth.Client
  readonly #auth: oauth.ClientAuth
  #metadata: Promise<oauth.AuthorizationServer> | undefined

  constructor(config: UpstreamConfig, redirectUri: string) {
    this.#config = config
    this.#redirectUri = redirectUri
    this.#client = { client_id: config.clientId }
    this.#auth = config.tokenEndpointAuthMethod === 'client_secret_post' ? oauth.ClientSecretPost(config.clientSecret) : oauth.ClientSecretBasic(config.clientSecret)
  }

  get name(): string {
    return this.#config.name
  }

  #options(url: string | undefined): { signal: AbortSignal; [oauth.allowInsecureRequests]?: boolean } {
    const options: { signal: AbortSignal; [oauth.allowInsecureRequests]?: boolean } = { signal: AbortSignal.timeout(this.#config.timeoutMs ?? 10_000) }
    if (url && isLoopbackHttp(url)) options[oauth.allowInsecureRequests] = true
    return options
  }

  /** The upstream's authorization server metadata: discovered (cached once it succeeded) or built from the preset. */
  metadata(): Promise<oauth.AuthorizationServer> {
    const c = this.#config
    if (c.kind === 'oauth2') {
      return Promise.resolve({
        issuer: c.issuer,
        authorization_endpoint: c.authorizationEndpoint,
        token_endpoint: c.tokenEndpoint,
        userinfo_endpoint: c.userinfoEndpoint,
      })
    }
    this.#metadata ??= (async () => {
      const issuer = new URL(c.issuer)
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...this.#options(c.issuer) })
      const as = await oauth.processDiscoveryResponse(issuer, response)
      return {
        ...as,
        ...(c.authorizationEndpoint ? { authorization_endpoint: c.authorizationEndpoint } : {}),
        ...(c.tokenEndpoint ? { token_endpoint: c.tokenEndpoint } : {}),
        ...(c.userinfoEndpoint ? { userinfo_endpoint: c.userinfoEndpoint } : {}),
      }
    })()
    const pending = this.#metadata
    pending.catch(() => {
      if (this.#metadata === pending) this.#metadata = undefined
    })
    return pending.catch((err: unknown) => {
      throw classify(err, 'discovery')
    })
  }

  async #usePkce(): Promise<boolean> {
    const pkce = this.#config.pkce
    if (pkce !== 'auto') return pkce
    return ((await this.metadata()).code_challenge_methods_supported ?? []).includes('S256')
  }

  /** A new transaction (state, PKCE verifier, nonce) and the URL to send the browser to. */
  async begin(mcpScopes: string[]): Promise<{ url: URL; transaction: UpstreamTransaction }> {
    const as = await this.metadata()
    if (!as.authorization_endpoint) throw new UpstreamError('server_error', 'the identity provider has no authorization endpoint')
    const transaction: UpstreamTransaction = { state: oauth.generateRandomState() }
    const url = new URL(as.authorization_endpoint)
    const params = url.searchParams
    params.set('client_id', this.#config.clientId)
    params.set('response_type', 'code')
    params.set('redirect_uri', this.#redirectUri)
    params.set('state', transaction.state)
    const scopes = new Set(this.#config.scopes)
    for (const s of mcpScopes) for (const u of this.#config.scopeMap?.[s] ?? []) scopes.add(u)
    if (scopes.size) params.set('scope', [...scopes].join(' '))
    if (await this.#usePkce()) {
      transaction.codeVerifier = oauth.generateRandomCodeVerifier()
      params.set('code_challenge', await oauth.calculatePKCECodeChallenge(transaction.codeVerifier))
      params.set('code_challenge_method', 'S256')
    }
    if (this.#config.kind === 'oidc' && scopes.has('openid')) {
      transaction.nonce = oauth.generateRandomNonce()
      params.set('nonce', transaction.nonce)
    }
    for (const [k, v] of Object.entries(this.#config.authorizationParams ?? {})) params.set(k, v)
    return { url, transaction }
  }

  /** Validate the callback (state, iss, error), redeem the code, and find out who the user is. */
  async complete(callback: URLSearchParams, transaction: UpstreamTransaction): Promise<UpstreamLogin> {
    let step = 'authorization response'
    try {
      const as = await this.metadata()
      const params = oauth.validateAuthResponse(as, this.#client, callback, transaction.state)
      step = 'token request'
      const response = await oauth.authorizationCodeGrantRequest(
        as, this.#client, this.#auth, params, this.#redirectUri, transaction.codeVerifier ?? oauth.nopkce, this.#options(as.token_endpoint),
      )
      const result = await oauth.processAuthorizationCodeResponse(as, this.#client, this.#config.kind === 'oauth2' ? await withoutIdToken(response) : response, {
        ...(transaction.nonce ? { expectedNonce: transaction.nonce, requireIdToken: true } : {}),
      })
      const tokens = toTokens(result)
      let claims: Record<string, unknown> = { ...(oauth.getValidatedIdTokenClaims(result) ?? {}) }
      if (this.#config.kind === 'oauth2' || (claims['sub'] === undefined && as.userinfo_endpoint)) {
        step = 'user-info request'
        claims = { ...claims, ...(await this.#userinfo(as, tokens.access_token)) }
      }
      const subject = (this.#config.subject ?? defaultSubject)(claims)
      if (typeof subject !== 'string' || subject === '' || subject.length > 255) {
        throw new UpstreamError('server_error', 'the identity provider did not say who the user is (no subject)')
      }
      return { subject, claims: publicClaims(claims), tokens }
    } catch (err) {
      throw classify(err, step)
    }
  }

  async #userinfo(as: oauth.AuthorizationServer, accessToken: string): Promise<Record<string, unknown>> {
    const url = as.userinfo_endpoint
    if (!url) throw new UpstreamError('server_error', 'the identity provider has no user-info endpoint')
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json', 'user-agent': 'mcp-oauth-bridge' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.#config.timeoutMs ?? 10_000),
    })
    if (response.status >= 500) {
      await response.body?.cancel().catch(() => {})
      throw new UpstreamError('temporarily_unavailable', `the identity provider failed (user-info request: HTTP ${response.status})`)
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {})
      throw new UpstreamError('server_error', `the identity provider refused the user-info request (HTTP ${response.status})`)
    }
    const text = await readCapped(response, MAX_USERINFO_BYTES)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw new UpstreamError('server_error', 'the identity provider sent a user-info answer that is not JSON')
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new UpstreamError('server_error', 'the identity provider sent a user-info answer that is not a JSON object')
    }
    return body as Record<string, unknown>
  }

  /** Refresh the user's upstream token; throws UpstreamError. */
  async refresh(refreshToken: string): Promise<UpstreamTokens> {
    try {
      const as = await this.metadata()
      const response = await oauth.refreshTokenGrantRequest(as, this.#client, this.#auth, refreshToken, this.#options(as.token_endpoint))
      const tokens = toTokens(await oauth.processRefreshTokenResponse(as, this.#client, response))
      // IdPs that do not rotate refresh tokens keep the old one valid.
      tokens.refresh_token ??= refreshToken
      return tokens
    } catch (err) {
      throw classify(err, 'refresh')
    }
  }
}

/**
 * A plain OAuth 2.0 upstream's identity comes from its user-info endpoint; an `id_token` it may add anyway is not
 * used, and (without metadata to validate it against) must not fail the sign-in.
 */
async function withoutIdToken(response: Response): Promise<Response> {
  if (response.status !== 200 || !/json/i.test(response.headers.get('content-type') ?? '')) return response
  const text = await readCapped(response, MAX_USERINFO_BYTES)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return new Response(text, { status: response.status, headers: response.headers })
  }
  if (body && typeof body === 'object' && !Array.isArray(body)) delete (body as Record<string, unknown>)['id_token']
  return new Response(JSON.stringify(body), { status: response.status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } })
}

function defaultSubject(claims: Record<string, unknown>): string | undefined {
  const sub = claims['sub'] ?? claims['id']
  return typeof sub === 'string' || typeof sub === 'number' ? String(sub) : undefined
}

/** The identity claims worth keeping (what oidc-provider's account may release); never tokens. */
function publicClaims(claims: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const name of ['sub', 'name', 'email', 'email_verified', 'preferred_username', 'login', 'picture', 'id']) {
    const v = claims[name]
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[name] = v
  }
  return out
}

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > max) {
      await reader.cancel().catch(() => {})
      throw new UpstreamError('server_error', `the identity provider sent a user-info answer larger than ${max} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
