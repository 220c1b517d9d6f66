import type { AuthorizationServerOptions } from '../options.js'
import { audienceValue, fail, optionalStrings, originOf, profileOptions, requireToken } from './profile-options.js'

/** Options of {@link okta}. */
export interface OktaOptions {
  /** The Okta org's domain (`dev-123456.okta.com`, `example.okta.com`) or its custom domain. A URL works too. */
  domain: string
  /** The custom authorization server's ID (Security → API → Authorization Servers). Default `'default'`. */
  authorizationServerId?: string
  /**
   * The authorization server's *Audience* setting, which Okta writes in `aud` (Okta ignores the `resource`
   * parameter). Default `'api://default'` for the `default` server; required for any other. Best: set the
   * server's audience to the MCP server's resource URI and write that here.
   */
  audience?: string | string[]
}

const KNOWN = ['domain', 'authorizationServerId', 'audience']

/**
 * An Okta custom authorization server.
 *
 * Sets the issuer `https://{domain}/oauth2/{authorizationServerId}` (discovery finds the path-appended
 * `/oauth2/{id}/.well-known/openid-configuration`), scopes from `scp` (an array), the client from `cid`
 * (Okta's access tokens carry no `client_id` or `azp`), RS256 only. The org authorization server
 * (`https://{domain}` without `/oauth2/…`) issues tokens only Okta itself may validate, so it is not offered.
 * Note that Okta's `sub` is the user's login (an email); the stable user id is the `uid` claim.
 *
 * @example
 * ```ts
 * authorizationServers: [okta({ domain: 'dev-123456.okta.com' })]
 * ```
 * @see https://developer.okta.com/docs/guides/validate-access-tokens/main/
 * @see https://developer.okta.com/docs/api/openapi/okta-oauth/guides/overview/
 */
export function okta(options: OktaOptions): AuthorizationServerOptions {
  const o = profileOptions(options, 'okta', KNOWN, `{ domain: 'dev-123456.okta.com' }`)
  if (typeof o.domain === 'string' && /\/oauth2\//.test(o.domain)) {
    const [domain, id] = o.domain.split(/\/oauth2\//)
    fail('okta().domain', `is the org's domain only; write domain: ${JSON.stringify(domain)}, authorizationServerId: ${JSON.stringify(id!.replace(/\/.*$/, ''))}.`)
  }
  const origin = originOf(o.domain, 'okta().domain', '"dev-123456.okta.com"')
  const id = o.authorizationServerId === undefined ? 'default' : requireToken(o.authorizationServerId, 'okta().authorizationServerId', '"default" or "aus1a2b3c4d5e6f7g8h9"')
  let audience = optionalStrings(o.audience, 'okta().audience', '"api://default"')
  if (!audience) {
    if (id !== 'default') fail('okta().audience', `is required for authorization server "${id}": write its Audience (Security → API → Authorization Servers → ${id} → Settings).`)
    audience = ['api://default']
  }
  return {
    issuer: `${origin}/oauth2/${id}`,
    audience: audienceValue(audience),
    scopeClaims: ['scp'],
    clientIdClaims: ['cid'],
    algorithms: ['RS256'],
  }
}
