import { McpAuthError } from '../errors.js'
import { IdpUnavailable } from '../http/idp-fetch.js'
import type { CustomVerifier } from '../options.js'
import { baseUrlOf, originOf, profileOptions, remoteOptions, requireStrings } from './profile-options.js'
import { callProvider, refuseJwt, rejected, retryAfterOf, secondsOf, unavailable } from './provider-api.js'
import type { VerifierProfile } from './verifier-profile.js'

/** Options of {@link google}. */
export interface GoogleOptions {
  /** The OAuth client ID(s) (`….apps.googleusercontent.com`) MCP clients use; a token issued to any other client is refused. */
  clientId: string | string[]
  /** The issuer advertised in the protected resource metadata. Default `https://accounts.google.com`; for local emulations. */
  issuer?: string
  /** The tokeninfo endpoint. Default `https://oauth2.googleapis.com/tokeninfo`; for local emulations. */
  tokeninfoEndpoint?: string
  /** The `fetch` used for tokeninfo. Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Timeout of a tokeninfo call in ms. Default 5000. */
  timeout?: number
}

const KNOWN = ['clientId', 'issuer', 'tokeninfoEndpoint', 'fetch', 'timeout']

/**
 * Google as the authorization server. Google's access tokens (`ya29.…`) are opaque and Google offers no
 * introspection endpoint, so each new token is checked once with the tokeninfo endpoint (POST, the token in the
 * body, never in a URL) and then served from the verified-token cache until it expires.
 *
 * A token is accepted when tokeninfo knows it, its `aud` (the OAuth client it was issued to) is one of
 * `clientId`, and it has not expired. Scopes come from tokeninfo's `scope`, the subject from `sub` (present
 * when the token has the `openid`, `email` or `profile` scope). A JWT — a Google ID token, or any other IdP's
 * token — is refused without calling Google. Google's tokens carry no resource: binding them to this server
 * means binding them to an OAuth client only this server's users are given.
 *
 * Spread the result into the options: it sets `authorizationServers` (for the protected resource metadata)
 * and `verify`.
 *
 * @example
 * ```ts
 * createMcpAuth({ resource: 'https://mcp.example.com/mcp', ...google({ clientId: '1234-abc.apps.googleusercontent.com' }) })
 * ```
 * @see https://developers.google.com/identity/protocols/oauth2/native-app
 * @see https://developers.google.com/identity/sign-in/web/backend-auth#calling-the-tokeninfo-endpoint
 */
export function google(options: GoogleOptions): VerifierProfile {
  const o = profileOptions(options, 'google', KNOWN, `{ clientId: '1234-abc.apps.googleusercontent.com' }`)
  const clientIds = requireStrings(o.clientId, 'google().clientId', '"1234-abc.apps.googleusercontent.com" (Google Cloud console → Credentials)')
  const issuer = originOf(o.issuer ?? 'https://accounts.google.com', 'google().issuer', '"https://accounts.google.com"')
  const endpoint = baseUrlOf(o.tokeninfoEndpoint ?? 'https://oauth2.googleapis.com/tokeninfo', 'google().tokeninfoEndpoint', '"https://oauth2.googleapis.com/tokeninfo"')
  const fetchOptions = remoteOptions(o, 'google')

  const verify: CustomVerifier = async (token) => {
    refuseJwt(token, 'Google')
    const res = await callProvider('Google', endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ access_token: token }).toString(),
    }, fetchOptions)
    // tokeninfo answers 400 `invalid_token` ("Invalid Value") for unknown, expired and revoked tokens.
    if (res.status === 400 || res.status === 401) throw rejected('The access token is not valid at Google')
    if (res.status !== 200 || !res.json) {
      throw unavailable('Google', new IdpUnavailable(`HTTP ${res.status} from tokeninfo`), retryAfterOf(res.headers))
    }
    const info = res.json
    const aud = typeof info.aud === 'string' ? info.aud : undefined
    if (aud === undefined || !clientIds.includes(aud)) throw new McpAuthError('ERR_TOKEN_AUDIENCE', 'The token was not issued for this resource')
    const expiresIn = secondsOf(info.expires_in)
    const exp = secondsOf(info.exp) ?? (expiresIn === undefined ? undefined : Math.floor(Date.now() / 1000) + expiresIn)
    if (exp === undefined) throw rejected('Google did not say when the token expires')
    const scopes = typeof info.scope === 'string' ? info.scope.split(' ').filter(Boolean) : []
    return {
      token,
      clientId: typeof info.azp === 'string' ? info.azp : aud,
      scopes,
      expiresAt: exp,
      extra: { subject: typeof info.sub === 'string' ? info.sub : undefined, issuer, claims: info },
    }
  }
  return { authorizationServers: [{ issuer }], verify }
}
