/**
 * GitHub as its documentation shows it (web and API on one server, the API under `/api/v3` as on GitHub
 * Enterprise Server): RFC 8414 metadata for the issuer `{web}/login/oauth` at the path-inserted
 * `/.well-known/oauth-authorization-server/login/oauth` only — without `code_challenge_methods_supported`,
 * a registration endpoint or a `jwks_uri` — opaque `gho_`/`ghu_` tokens, `GET /user` (User-Agent required;
 * `X-OAuth-Scopes` header; 401 "Bad credentials"), and "check a token" `POST /applications/{client_id}/token`
 * with the app's Basic credentials (404 for a token of another app or none; 422 without `access_token`;
 * 401 for wrong app credentials), and rate limiting (403 with `x-ratelimit-remaining: 0`).
 *
 * Sources: docs.github.com/rest/apps/oauth-applications#check-a-token, docs.github.com/rest/users/users,
 * docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api, …/troubleshooting (User-Agent),
 * github/github-mcp-server#2901 (the metadata URL).
 */
import { now, random, startEmulation, type Emulation } from './emulation.js'

interface GrantedToken {
  clientId: string
  scopes: string[]
  expiresAt: string | null
}

export interface GitHubEmulation {
  emulation: Emulation
  webUrl: string
  apiUrl: string
  issuer: string
  app: { clientId: string; clientSecret: string }
  user: { login: string; id: number }
  rateLimited: boolean
  accessToken(opts?: { clientId?: string; scopes?: string[]; prefix?: string; expiresAt?: string | null }): string
  close(): Promise<void>
}

export async function startGitHub(): Promise<GitHubEmulation> {
  const emulation = await startEmulation()
  const origin = emulation.origin
  const api = '/api/v3'
  const tokens = new Map<string, GrantedToken>()
  const app = { clientId: 'Ov23liQmHx7yH2Tn5kZp', clientSecret: random(30) }
  const user = {
    login: 'octocat', id: 583231, node_id: 'MDQ6VXNlcjU4MzIzMQ==', avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4',
    html_url: 'https://github.com/octocat', type: 'User', site_admin: false, name: 'The Octocat', email: null, created_at: '2011-01-25T18:44:36Z',
  }
  const g: GitHubEmulation = {
    emulation,
    webUrl: origin,
    apiUrl: `${origin}${api}`,
    issuer: `${origin}/login/oauth`,
    app,
    user,
    rateLimited: false,
    accessToken: ({ clientId = app.clientId, scopes = ['read:user', 'repo'], prefix = 'gho_', expiresAt = null } = {}) => {
      const token = `${prefix}${random(27).replace(/[-_]/g, 'x').slice(0, 36)}`
      tokens.set(token, { clientId, scopes, expiresAt })
      return token
    },
    close: () => emulation.close(),
  }
  const headers = () => ({ 'x-github-api-version-selected': '2022-11-28', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', 'x-ratelimit-reset': String(now() + 3600) })
  const guard = (req: Parameters<Parameters<Emulation['route']>[2]>[0], res: Parameters<Parameters<Emulation['route']>[2]>[1]): boolean => {
    if (!req.headers['user-agent']) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.')
      return false
    }
    if (g.rateLimited) {
      emulation.json(res, 403, { message: 'API rate limit exceeded for 203.0.113.7.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' },
        { 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now() + 120) })
      return false
    }
    return true
  }
  emulation.route('GET', '/.well-known/oauth-authorization-server/login/oauth', (_req, res) => emulation.json(res, 200, {
    issuer: g.issuer,
    authorization_endpoint: `${origin}/login/oauth/authorize`,
    token_endpoint: `${origin}/login/oauth/access_token`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
  }))
  emulation.route('GET', `${api}/user`, (req, res) => {
    if (!guard(req, res)) return
    const token = /^(?:bearer|token) (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? ''
    const granted = tokens.get(token)
    if (!granted) return emulation.json(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' })
    emulation.json(res, 200, user, { ...headers(), 'x-oauth-scopes': granted.scopes.join(', '), 'x-accepted-oauth-scopes': '' })
  })
  emulation.route('POST', `${api}/applications/${app.clientId}/token`, (req, res, body) => {
    if (!guard(req, res)) return
    if (req.headers.authorization !== `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`) {
      return emulation.json(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' })
    }
    let accessToken: unknown
    try {
      accessToken = (JSON.parse(body) as { access_token?: unknown }).access_token
    } catch {
      accessToken = undefined
    }
    if (typeof accessToken !== 'string') return emulation.json(res, 422, { message: 'Validation Failed', errors: [{ resource: 'OauthAccess', code: 'missing_field', field: 'access_token' }], documentation_url: 'https://docs.github.com/rest/apps/oauth-applications#check-a-token', status: '422' })
    const granted = tokens.get(accessToken)
    if (!granted || granted.clientId !== app.clientId) return emulation.json(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/apps/oauth-applications#check-a-token', status: '404' })
    emulation.json(res, 200, {
      id: 1, url: `${origin}${api}/authorizations/1`, scopes: granted.scopes, token: accessToken, token_last_eight: accessToken.slice(-8), hashed_token: random(32),
      app: { url: 'https://mcp.example.com', name: 'MCP server', client_id: app.clientId }, note: null, note_url: null,
      updated_at: '2025-01-01T00:00:00Z', created_at: '2025-01-01T00:00:00Z', fingerprint: null, expires_at: granted.expiresAt, user,
    }, headers())
  })
  emulation.fallback = (_req, res) => emulation.json(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' })
  return g
}
