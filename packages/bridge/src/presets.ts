/**
 * Upstream presets: each needs the client id and secret of ONE client registered at the IdP (the bridge),
 * whose redirect URI is the bridge's callback URL (`<bridge issuer>/callback`, see `bridge.callbackUrl`).
 * Bad preset options throw a {@link BridgeConfigError} at once, saying what to write instead.
 */
import { BridgeConfigError } from './errors.js'
import { httpsUrl } from './options.js'

/** What the bridge needs to know about the upstream IdP. Build it with a preset; every field can be overridden. */
export interface UpstreamConfig {
  /** `oidc`: endpoints from OpenID discovery of `issuer`, identity from the ID token. `oauth2`: explicit endpoints, identity from `userinfoEndpoint`. */
  kind: 'oidc' | 'oauth2'
  /** Shown to the user on the consent page ("Continue to GitHub"). */
  name: string
  clientId: string
  clientSecret: string
  /** oidc: the issuer to discover (`/.well-known/openid-configuration`). oauth2: the value the IdP's RFC 9207 `iss` must have, when it sends one. */
  issuer: string
  authorizationEndpoint?: string
  tokenEndpoint?: string
  /** oauth2: required (the identity comes from it). oidc: optional extra claims. */
  userinfoEndpoint?: string
  /** Scopes the bridge asks the upstream for (always, whatever the MCP client asked). */
  scopes: string[]
  /**
   * PKCE S256 on the upstream leg. `'auto'` (oidc default): when the discovery document lists S256. GitHub-style
   * IdPs: false (client secret only). Between the MCP client and the bridge PKCE is always required.
   */
  pkce: boolean | 'auto'
  /** How the bridge authenticates at the upstream token endpoint. Default `client_secret_basic`. */
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post'
  /** Extra authorization request parameters (Google: `access_type=offline`). */
  authorizationParams?: Record<string, string>
  /** The user's stable id from the ID token claims or the user-info document. Default `sub`, else `id`. */
  subject?: (claims: Record<string, unknown>) => string | undefined
  /**
   * MCP scope → upstream scopes. Each mapped upstream scope is requested when the MCP client asks for the
   * MCP scope; when the upstream grants less (its token response `scope`), the MCP scope is not granted.
   */
  scopeMap?: Record<string, string[]>
  /** Upstream HTTP timeout in ms. Default 10 000. */
  timeoutMs?: number
}

interface Credentials {
  clientId: string
  clientSecret: string
}

type Overrides = Partial<Omit<UpstreamConfig, 'clientId' | 'clientSecret'>>

function credentials(preset: string, options: Credentials | undefined): Credentials {
  if (!options || typeof options !== 'object') {
    throw new BridgeConfigError(`upstream`, `${preset}() needs { clientId, clientSecret } of the client you registered at the IdP`)
  }
  for (const name of ['clientId', 'clientSecret'] as const) {
    const value = options[name]
    if (typeof value !== 'string' || value.trim() === '' || value !== value.trim()) {
      throw new BridgeConfigError(`upstream.${name}`, `${preset}({ ${name} }) must be the non-empty ${name === 'clientId' ? 'client id' : 'client secret'} the IdP showed when you registered the bridge (no surrounding spaces)`)
    }
  }
  return { clientId: options.clientId, clientSecret: options.clientSecret }
}

function endpoint(option: string, value: unknown, example: string): string {
  return httpsUrl(option, value, example, true).href.replace(/\/$/, '')
}

function scopeList(option: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))) {
    throw new BridgeConfigError(option, `must be an array of scope strings, e.g. ['openid', 'email']; got ${JSON.stringify(value)}`)
  }
  return value as string[]
}

/**
 * GitHub (OAuth App or GitHub App): no discovery, no PKCE (`pkce: false`), client secret posted, opaque
 * tokens, identity from `GET https://api.github.com/user` (`id`). Register the callback URL as the app's
 * "Authorization callback URL". GitHub Enterprise Server: pass `url: 'https://github.example.com'`.
 */
export function github(options: Credentials & { scopes?: string[]; url?: string } & Overrides): UpstreamConfig {
  const creds = credentials('github', options)
  const base = options.url === undefined ? 'https://github.com' : endpoint('upstream.url', options.url, "'https://github.example.com'")
  const api = options.url === undefined ? 'https://api.github.com' : `${base}/api/v3`
  const { url: _url, ...rest } = options
  return {
    kind: 'oauth2',
    name: 'GitHub',
    issuer: `${base}/login/oauth`,
    authorizationEndpoint: `${base}/login/oauth/authorize`,
    tokenEndpoint: `${base}/login/oauth/access_token`,
    userinfoEndpoint: `${api}/user`,
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_post',
    subject: (claims) => (typeof claims['id'] === 'number' || typeof claims['id'] === 'string' ? String(claims['id']) : undefined),
    ...rest,
    ...creds,
    scopes: scopeList('upstream.scopes', options.scopes, ['read:user']),
  }
}

/**
 * Google: OpenID discovery of https://accounts.google.com, PKCE, `access_type=offline` and `prompt=consent`
 * so Google issues a refresh token. Register a "Web application" OAuth client with the callback URL as an
 * authorized redirect URI.
 */
export function google(options: Credentials & { scopes?: string[] } & Overrides): UpstreamConfig {
  const creds = credentials('google', options)
  return {
    kind: 'oidc',
    name: 'Google',
    issuer: 'https://accounts.google.com',
    pkce: 'auto',
    tokenEndpointAuthMethod: 'client_secret_basic',
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
    ...options,
    ...creds,
    scopes: scopeList('upstream.scopes', options.scopes, ['openid', 'email', 'profile']),
  }
}

const ENTRA_MULTI = new Set(['common', 'organizations', 'consumers'])

/**
 * Microsoft Entra ID (v2 endpoints) of one tenant: discovery of `https://login.microsoftonline.com/<tenant>/v2.0`.
 * Register a "Web" platform redirect URI = the callback URL, and a client secret.
 */
export function entra(options: Credentials & { tenant: string; scopes?: string[] } & Overrides): UpstreamConfig {
  const creds = credentials('entra', options)
  const tenant = options?.tenant
  if (typeof tenant !== 'string' || ENTRA_MULTI.has(tenant.toLowerCase())) {
    throw new BridgeConfigError(
      'upstream.tenant',
      `entra({ tenant }) must be your tenant id (a GUID) or primary domain, e.g. tenant: 'contoso.onmicrosoft.com'; multi-tenant aliases ('common', 'organizations', 'consumers') have no single issuer to check tokens against; got ${JSON.stringify(tenant)}`,
    )
  }
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tenant) && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(tenant)) {
    throw new BridgeConfigError('upstream.tenant', `entra({ tenant }) must be a GUID or a domain such as 'contoso.onmicrosoft.com'; got ${JSON.stringify(tenant)}`)
  }
  const { tenant: _t, ...rest } = options
  return {
    kind: 'oidc',
    name: 'Microsoft',
    issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
    pkce: 'auto',
    tokenEndpointAuthMethod: 'client_secret_basic',
    ...rest,
    ...creds,
    scopes: scopeList('upstream.scopes', options.scopes, ['openid', 'profile', 'email', 'offline_access']),
  }
}

/**
 * Amazon Cognito user pool: discovery of `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`. Create an
 * app client WITH a client secret, enable the authorization code grant and add the callback URL.
 */
export function cognito(options: Credentials & { region: string; userPoolId: string; scopes?: string[] } & Overrides): UpstreamConfig {
  const creds = credentials('cognito', options)
  const region = options?.region
  const pool = options?.userPoolId
  if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new BridgeConfigError('upstream.region', `cognito({ region }) must be an AWS region such as 'eu-west-1'; got ${JSON.stringify(region)}`)
  }
  if (typeof pool !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$/.test(pool)) {
    throw new BridgeConfigError('upstream.userPoolId', `cognito({ userPoolId }) must look like '${region}_AbC123xyz' (the pool id, not its name or ARN); got ${JSON.stringify(pool)}`)
  }
  if (!pool.startsWith(`${region}_`)) {
    throw new BridgeConfigError('upstream.userPoolId', `cognito({ userPoolId: '${pool}' }) is in region '${pool.split('_')[0]}', not '${region}': write region: '${pool.split('_')[0]}'`)
  }
  const { region: _r, userPoolId: _p, ...rest } = options
  return {
    kind: 'oidc',
    name: 'Amazon Cognito',
    issuer: `https://cognito-idp.${region}.amazonaws.com/${pool}`,
    pkce: 'auto',
    tokenEndpointAuthMethod: 'client_secret_basic',
    ...rest,
    ...creds,
    scopes: scopeList('upstream.scopes', options.scopes, ['openid', 'email', 'profile']),
  }
}

/** Any OpenID Provider with discovery (Keycloak, Auth0, Okta, the dev IdP …): `issuer` is what its metadata says. */
export function oidc(options: Credentials & { issuer: string; name?: string; scopes?: string[] } & Overrides): UpstreamConfig {
  const creds = credentials('oidc', options)
  const issuer = endpoint('upstream.issuer', options?.issuer, "'https://idp.example.com/realms/main'")
  const scopes = scopeList('upstream.scopes', options.scopes, ['openid', 'email', 'profile', 'offline_access'])
  return {
    kind: 'oidc',
    name: options.name ?? new URL(issuer).host,
    pkce: 'auto',
    tokenEndpointAuthMethod: 'client_secret_basic',
    // OpenID Connect Core §11: a refresh token for offline_access is only due when the request has prompt=consent.
    ...(scopes.includes('offline_access') ? { authorizationParams: { prompt: 'consent' } } : {}),
    ...options,
    ...creds,
    issuer,
    scopes,
  }
}

/** Plain OAuth 2.0 with explicit endpoints (no discovery); the identity comes from `userinfoEndpoint`. */
export function oauth2(
  options: Credentials & {
    authorizationEndpoint: string
    tokenEndpoint: string
    userinfoEndpoint: string
    issuer?: string
    name?: string
    scopes?: string[]
    pkce?: boolean
  } & Overrides,
): UpstreamConfig {
  const creds = credentials('oauth2', options)
  const authorizationEndpoint = endpoint('upstream.authorizationEndpoint', options.authorizationEndpoint, "'https://idp.example.com/oauth/authorize'")
  const tokenEndpoint = endpoint('upstream.tokenEndpoint', options.tokenEndpoint, "'https://idp.example.com/oauth/token'")
  const userinfoEndpoint = endpoint('upstream.userinfoEndpoint', options.userinfoEndpoint, "'https://api.example.com/user'")
  if (options.pkce !== undefined && typeof options.pkce !== 'boolean') {
    throw new BridgeConfigError('upstream.pkce', `oauth2({ pkce }) must be true (the IdP supports S256) or false (client secret only); got ${JSON.stringify(options.pkce)}`)
  }
  return {
    kind: 'oauth2',
    name: options.name ?? new URL(authorizationEndpoint).host,
    issuer: options.issuer ?? new URL(authorizationEndpoint).origin,
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_basic',
    ...options,
    ...creds,
    authorizationEndpoint,
    tokenEndpoint,
    userinfoEndpoint,
    scopes: scopeList('upstream.scopes', options.scopes, []),
  }
}
