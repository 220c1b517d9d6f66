import { IdpUnavailable } from '../http/idp-fetch.js'
import type { AuthInfo } from '../auth-info.js'
import type { CustomVerifier } from '../options.js'
import { baseUrlOf, fail, originOf, profileOptions, remoteOptions } from './profile-options.js'
import { callProvider, refuseJwt, rejected, retryAfterOf, secondsOf, unavailable, type ProviderResponse } from './provider-api.js'
import type { VerifierProfile } from './verifier-profile.js'

/** Options of {@link github}. */
export interface GitHubOptions {
  /** The OAuth app's (or GitHub App's) client ID. With `clientSecret`, only tokens issued to this app are accepted. */
  clientId?: string
  /** Its client secret, to call GitHub's "check a token" API (`POST /applications/{client_id}/token`). */
  clientSecret?: string
  /**
   * Loosening: accept any GitHub token, whatever app it was issued to (checked with `GET /user`). A token
   * a user made for another app or a script then works here too. Default false: `clientId` and
   * `clientSecret` are required.
   */
  anyApp?: boolean
  /** Token prefixes accepted; others are refused without calling GitHub. Default `['gho_', 'ghu_']` (OAuth app and GitHub App user tokens); add `'ghp_'`, `'github_pat_'` for personal access tokens, or `[]` for any. */
  tokenPrefixes?: string[]
  /** GitHub's web origin: the issuer is `{webUrl}/login/oauth`. Default `https://github.com`; GitHub Enterprise Server: `https://HOST`. */
  webUrl?: string
  /** The REST API base. Default `https://api.github.com`; GitHub Enterprise Server: `https://HOST/api/v3`. */
  apiUrl?: string
  /** The `fetch` used for the API. Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Timeout of an API call in ms. Default 5000. */
  timeout?: number
}

const KNOWN = ['clientId', 'clientSecret', 'anyApp', 'tokenPrefixes', 'webUrl', 'apiUrl', 'fetch', 'timeout']
const API_HEADERS = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'mcp-oauth' }

interface GitHubUser {
  id: number
  login: string
  [claim: string]: unknown
}

function userOf(value: unknown): GitHubUser | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const user = value as Record<string, unknown>
  return typeof user.id === 'number' && typeof user.login === 'string' ? (user as GitHubUser) : undefined
}

function rateLimited(res: ProviderResponse): boolean {
  return res.status === 429 || (res.status === 403 && res.headers.get('x-ratelimit-remaining') === '0')
}

/**
 * GitHub as the authorization server. GitHub's tokens are opaque and GitHub has no introspection endpoint, so
 * each new token is checked once with GitHub's REST API, then served from the verified-token cache (at most
 * `cache.maxTtl`, 10 minutes by default, or until its `expires_at`).
 *
 * With `clientId` and `clientSecret`: `POST /applications/{client_id}/token` — only tokens issued to this app
 * pass, with their scopes and user. With `anyApp: true`: `GET /user` — any token, scopes from the
 * `X-OAuth-Scopes` header. The subject is the user's numeric `id` (logins can be renamed); `login` is in the
 * claims. Tokens without an accepted prefix, and JWTs, are refused without calling GitHub.
 *
 * GitHub's authorization server (`https://github.com/login/oauth`) supports PKCE S256 without saying so and has
 * no dynamic client registration: MCP clients need a client ID you give them. The returned options turn on the
 * mirror's S256 fix for clients that read metadata on this server's origin.
 *
 * @example
 * ```ts
 * createMcpAuth({ resource: 'https://mcp.example.com/mcp', ...github({ clientId: 'Iv23li…', clientSecret: process.env.GITHUB_CLIENT_SECRET }) })
 * ```
 * @see https://docs.github.com/rest/apps/oauth-applications#check-a-token
 * @see https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
 */
export function github(options: GitHubOptions): VerifierProfile {
  const o = profileOptions(options, 'github', KNOWN, `{ clientId: 'Iv23li…', clientSecret: '…' }`)
  if (o.anyApp !== undefined && typeof o.anyApp !== 'boolean') fail('github().anyApp', 'must be true or false.')
  const hasId = o.clientId !== undefined
  const hasSecret = o.clientSecret !== undefined
  if (hasId && (typeof o.clientId !== 'string' || !/^[\w.-]+$/.test(o.clientId))) fail('github().clientId', 'must be the app\'s client ID, e.g. "Iv23liAbCdEf".')
  if (hasSecret && (typeof o.clientSecret !== 'string' || o.clientSecret === '')) fail('github().clientSecret', 'must be the app\'s client secret.')
  if (hasId !== hasSecret) fail(hasId ? 'github().clientSecret' : 'github().clientId', 'give clientId and clientSecret together: GitHub checks which app a token belongs to only with both.')
  if (!hasId && o.anyApp !== true) {
    fail('github()', 'pass { clientId, clientSecret } of your GitHub OAuth app so only tokens issued to it are accepted, or { anyApp: true } to accept every GitHub token.')
  }
  const prefixes = o.tokenPrefixes ?? ['gho_', 'ghu_']
  if (!Array.isArray(prefixes) || !prefixes.every((p) => typeof p === 'string' && p !== '')) fail('github().tokenPrefixes', 'must be an array of prefixes, e.g. ["gho_", "ghu_"].')
  const webUrl = originOf(o.webUrl ?? 'https://github.com', 'github().webUrl', '"https://github.com"')
  const apiUrl = baseUrlOf(o.apiUrl ?? 'https://api.github.com', 'github().apiUrl', '"https://api.github.com"')
  const issuer = `${webUrl}/login/oauth`
  const fetchOptions = remoteOptions(o, 'github')
  const app = hasId ? { clientId: o.clientId!, authorization: `Basic ${btoa(`${o.clientId}:${o.clientSecret}`)}` } : undefined

  function failure(res: ProviderResponse): never {
    throw unavailable('GitHub', new IdpUnavailable(`HTTP ${res.status} from the GitHub API`), retryAfterOf(res.headers))
  }

  function authInfo(token: string, user: GitHubUser, clientId: string, scopes: string[], expiresAt: number | undefined): AuthInfo {
    const info: AuthInfo = { token, clientId, scopes, extra: { subject: String(user.id), issuer, claims: { ...user, sub: String(user.id) } } }
    if (expiresAt !== undefined) info.expiresAt = expiresAt
    return info
  }

  const verify: CustomVerifier = async (token) => {
    refuseJwt(token, 'GitHub')
    if (prefixes.length > 0 && !prefixes.some((p) => token.startsWith(p))) throw rejected('The access token is not a GitHub token of an accepted kind')
    if (app) {
      const res = await callProvider('GitHub', `${apiUrl}/applications/${encodeURIComponent(app.clientId)}/token`, {
        method: 'POST',
        headers: { ...API_HEADERS, authorization: app.authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: token }),
      }, fetchOptions)
      // 404: unknown, revoked, or issued to another app. 422: not a token at all.
      if (res.status === 404 || res.status === 422) throw rejected('The access token was not issued to this GitHub app')
      if (res.status !== 200 || rateLimited(res)) failure(res)
      const user = userOf(res.json?.user)
      const granted = res.json?.app as { client_id?: unknown } | undefined
      if (!user || granted?.client_id !== app.clientId) failure(res)
      const scopes = Array.isArray(res.json?.scopes) ? (res.json.scopes as unknown[]).filter((s): s is string => typeof s === 'string') : []
      return authInfo(token, user, app.clientId, scopes, secondsOf(res.json?.expires_at))
    }
    const res = await callProvider('GitHub', `${apiUrl}/user`, { method: 'GET', headers: { ...API_HEADERS, authorization: `Bearer ${token}` } }, fetchOptions)
    if (rateLimited(res)) failure(res)
    if (res.status === 401 || res.status === 403) throw rejected('The access token is not valid at GitHub')
    const user = res.status === 200 ? userOf(res.json) : undefined
    if (!user) failure(res)
    const scopes = (res.headers.get('x-oauth-scopes') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    return authInfo(token, user, '', scopes, secondsOf(res.headers.get('github-authentication-token-expiration') ?? undefined))
  }
  return { authorizationServers: [{ issuer }], verify, authorizationServerMetadata: { supportsPkceS256: true } }
}
