import type { AuthorizationServerOptions } from '../options.js'
import { audienceValue, fail, isGuid, originOf, profileOptions, requireStrings, requireToken } from './profile-options.js'

/** Options of {@link entra}. */
export interface EntraOptions {
  /** The directory (tenant) ID, a GUID (Entra admin center → Overview → Tenant ID). */
  tenantId: string
  /**
   * What the API's tokens carry in `aud`. Version 2 tokens: always the API app registration's Application
   * (client) ID, a GUID. Version 1 tokens: the App ID URI the client asked for (`api://…`) or the client ID.
   */
  audience: string | string[]
  /**
   * The token version the API's app registration issues: its manifest's `requestedAccessTokenVersion`
   * (`accessTokenAcceptedVersion`); `null` or `1` means v1 tokens, whichever endpoint the client used. Default 2.
   */
  version?: 2 | 1
  /** The login host. Default `https://login.microsoftonline.com`; sovereign clouds: `https://login.microsoftonline.us`, `https://login.chinacloudapi.cn`. Also for local emulations. */
  authorityHost?: string
  /** The host in v1 tokens' `iss`. Default `https://sts.windows.net`; Azure China: `https://sts.chinacloudapi.cn`. Also for local emulations. */
  v1IssuerHost?: string
  /**
   * The API's App ID URI (`api://<client id>` or a custom one). When given, the token's short scopes
   * (`tools.call`) read as the form clients request (`api://<client id>/tools.call`), so `requiredScopes`, the
   * policy and the challenges can all be written in that form. Default: none (scopes read as in the token).
   */
  appIdUri?: string
}

const KNOWN = ['tenantId', 'audience', 'version', 'authorityHost', 'v1IssuerHost', 'appIdUri']
const MULTI_TENANT = new Set(['common', 'organizations', 'consumers'])

/**
 * Microsoft Entra ID (Azure AD) as the authorization server.
 *
 * Version 2 (default): issuer `https://login.microsoftonline.com/{tenantId}/v2.0`, `aud` = the API's client ID,
 * the client in `azp`. Version 1: issuer `https://sts.windows.net/{tenantId}/` — not the host of the discovery
 * document, so the key set URL is given explicitly — and the client in `appid`. Both: delegated scopes in
 * `scp` (space-separated, without the `api://…/` prefix the client asked with) and app roles in `roles`
 * (an array, app-only tokens); RS256 only. Entra's key set has no `alg` members; jose infers RS256 from `kty`.
 *
 * Entra's metadata omits `code_challenge_methods_supported` although it supports PKCE S256: clients that
 * discover through this server's mirror see it with `authorizationServerMetadata: { supportsPkceS256: true }`.
 *
 * @example
 * ```ts
 * // audience: the API app registration's Application (client) ID
 * authorizationServers: [entra({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3' })]
 * ```
 * @see https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 * @see https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens
 */
export function entra(options: EntraOptions): AuthorizationServerOptions {
  const o = profileOptions(options, 'entra', KNOWN, `{ tenantId: '<tenant GUID>', audience: '<API client ID>' }`)
  const tenantId = requireToken(o.tenantId, 'entra().tenantId', '"72f988bf-86f1-41af-91ab-2d7cd011db47"')
  if (MULTI_TENANT.has(tenantId.toLowerCase())) {
    fail('entra().tenantId', `"${tenantId}" is not a tenant: tokens name the user's own tenant in iss. Give a tenant GUID, and one entra() entry per tenant you accept.`)
  }
  if (!isGuid(tenantId)) {
    fail('entra().tenantId', `${JSON.stringify(tenantId)} is not a tenant GUID; tokens carry the GUID (Entra admin center → Overview → Tenant ID), not a domain name.`)
  }
  const version = o.version ?? 2
  if (version !== 1 && version !== 2) fail('entra().version', 'must be 2 (default) or 1: the API\'s requestedAccessTokenVersion.')
  const audience = requireStrings(o.audience, 'entra().audience', '"<the API\'s Application (client) ID>"')
  if (version === 2) {
    const notGuid = audience.find((a) => !isGuid(a))
    if (notGuid !== undefined) {
      fail('entra().audience', `${JSON.stringify(notGuid)}: version 2 tokens always carry the API's Application (client) ID in aud, never the App ID URI. Write that GUID, or set version: 1 if the API issues v1 tokens (requestedAccessTokenVersion null or 1).`)
    }
  }
  const authority = originOf(o.authorityHost ?? 'https://login.microsoftonline.com', 'entra().authorityHost', '"https://login.microsoftonline.com"')
  if (o.appIdUri !== undefined && (typeof o.appIdUri !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(o.appIdUri))) {
    fail('entra().appIdUri', `${JSON.stringify(o.appIdUri)} is not an App ID URI; write it as in the app registration's "Expose an API" page, e.g. "api://6e74172b-be56-4843-9ff4-e66a39bb12e3".`)
  }
  const common = {
    audience: audienceValue(audience), scopeClaims: ['scp', 'roles'], algorithms: ['RS256'],
    ...(o.appIdUri ? { scopePrefix: `${String(o.appIdUri).replace(/\/$/, '')}/` } : {}),
  }
  if (version === 2) {
    return { issuer: `${authority}/${tenantId}/v2.0`, jwksUri: `${authority}/${tenantId}/discovery/v2.0/keys`, clientIdClaims: ['azp'], ...common }
  }
  const sts = originOf(o.v1IssuerHost ?? 'https://sts.windows.net', 'entra().v1IssuerHost', '"https://sts.windows.net"')
  return { issuer: `${sts}/${tenantId}/`, jwksUri: `${authority}/${tenantId}/discovery/keys`, clientIdClaims: ['appid'], ...common }
}
