import { randomBytes } from 'node:crypto'
import type { ClientMetadata, Configuration } from 'oidc-provider'
import { createAdapterFactory, type ClientResolver, type MemoryStore } from './adapter.js'
import type { KeyRing } from './keys.js'
import { SIGNING_ALGS } from './keys.js'
import { devicePages, logoutPages, renderError } from './pages.js'
import { checkDpopOption, dpopFeature } from './dpop.js'
import type { DevIdpOptions, SigningAlg } from './types.js'
import { Users } from './users.js'

export const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'mcp:read', 'mcp:tools', 'mcp:admin']
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'address', 'phone', 'offline_access'])
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

type OidcModule = typeof import('oidc-provider')
let oidcModule: Promise<OidcModule> | undefined

/** Import oidc-provider once, hiding its "Unsupported runtime" banner on Node 20 (it works there). */
export function loadOidcProvider(): Promise<OidcModule> {
  oidcModule ??= (async () => {
    const original = console.warn
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return
      original.apply(console, args)
    }
    try {
      return await import('oidc-provider')
    } finally {
      console.warn = original
    }
  })()
  return oidcModule
}

/** DevIdpOptions checked and filled in with their defaults (at start, before anything listens). */
export interface Settings {
  host: string
  port: number
  issuerPath: string
  scopes: string[]
  /** The scopes that are not OpenID Connect ones (what resource servers see). */
  resourceScopes: string[]
  users: Users
  accessTokenTtl: number
  initialAlg: SigningAlg
  allowedResource: (resource: string) => boolean
  serveOAuthMetadata: boolean
  refreshTokens: 'offline_access' | 'always'
  resourceServerClient: { clientId: string; clientSecret: string }
  serviceClient: { clientId: string; clientSecret: string }
  publicClient: { clientId: string }
  extraClients: ClientMetadata[]
  dpop: DevIdpOptions['dpop']
}

export function resolveSettings(options: DevIdpOptions): Settings {
  const issuerPath = normalizeIssuerPath(options.issuerPath ?? '')
  const scopes = [...new Set(options.scopes ?? DEFAULT_SCOPES)]
  if (!scopes.includes('openid')) scopes.unshift('openid')
  const users = new Users(options.users)
  const accessTokenTtl = options.accessTokenTtl ?? 3600
  if (!Number.isInteger(accessTokenTtl) || accessTokenTtl <= 0) throw new TypeError('dev-idp: accessTokenTtl must be a positive integer (seconds)')
  const initialAlg = options.signingAlg ?? 'ES256'
  if (!SIGNING_ALGS.includes(initialAlg)) throw new TypeError(`dev-idp: signingAlg must be one of ${SIGNING_ALGS.join(', ')}`)
  checkDpopOption(options.dpop)
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    issuerPath,
    scopes,
    resourceScopes: scopes.filter((s) => !OIDC_SCOPES.has(s)),
    users,
    accessTokenTtl,
    initialAlg,
    allowedResource: options.allowedResource ?? defaultAllowedResource,
    serveOAuthMetadata: options.serveOAuthMetadata ?? true,
    refreshTokens: options.refreshTokens ?? 'offline_access',
    resourceServerClient: {
      clientId: 'mcp-resource-server',
      clientSecret: options.resourceServerClientSecret ?? randomBytes(24).toString('base64url'),
    },
    serviceClient: {
      clientId: 'mcp-service',
      clientSecret: options.serviceClientSecret ?? randomBytes(24).toString('base64url'),
    },
    publicClient: { clientId: 'mcp-dev-client' },
    extraClients: options.clients ?? [],
    dpop: options.dpop,
  }
}

function normalizeIssuerPath(path: string): string {
  if (path === '' || path === '/') return ''
  if (!path.startsWith('/') || /[?#\s]/.test(path)) {
    throw new TypeError(`dev-idp: issuerPath must look like '/tenant-a' (got ${JSON.stringify(path)})`)
  }
  return path.replace(/\/+$/, '')
}

function defaultAllowedResource(resource: string): boolean {
  let url: URL
  try {
    url = new URL(resource)
  } catch {
    return false
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && !resource.includes('#')
}

export interface ConfigurationDeps {
  errors: OidcModule['errors']
  keys: KeyRing
  store: MemoryStore
  resolveClient: ClientResolver
}

function preRegisteredClients(s: Settings): ClientMetadata[] {
  return [
    {
      client_id: s.resourceServerClient.clientId,
      client_secret: s.resourceServerClient.clientSecret,
      client_name: 'MCP resource server (introspection)',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: s.serviceClient.clientId,
      client_secret: s.serviceClient.clientSecret,
      client_name: 'MCP service (client credentials)',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: s.resourceScopes.join(' '),
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: s.publicClient.clientId,
      client_name: 'mcp-oauth dev client',
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
      token_endpoint_auth_method: 'none',
    },
    ...s.extraClients,
  ]
}

function claimsByScope(scopes: string[]): Record<string, string[]> {
  const claims: Record<string, string[]> = { openid: ['sub'] }
  if (scopes.includes('profile')) {
    claims['profile'] = ['name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at']
  }
  if (scopes.includes('email')) claims['email'] = ['email', 'email_verified']
  return claims
}

/** The oidc-provider configuration of a dev IdP. */
export function buildConfiguration(s: Settings, deps: ConfigurationDeps): Configuration {
  const { errors, keys } = deps
  return {
    adapter: createAdapterFactory(deps.store, deps.resolveClient),
    clients: preRegisteredClients(s),
    jwks: { keys: [keys.current().privateJwk as never] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: s.scopes,
    claims: claimsByScope(s.scopes),
    findAccount: s.users.findAccount,
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: s.initialAlg,
    },
    // A development IdP: any origin may call the token, registration and userinfo endpoints (browser
    // clients such as the MCP Inspector).
    clientBasedCORS: () => true,
    responseTypes: ['code'],
    pkce: { required: () => true },
    // MCP clients refresh but do not always ask for offline_access: issue refresh tokens to every
    // client allowed the refresh_token grant, and never tie tokens to the browser session.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && (s.refreshTokens === 'always' || (code.scopes as Set<string>).has('offline_access')),
    expiresWithSession: async () => false,
    // issueAccessToken() puts its extra claims on the token before saving it.
    extraTokenClaims: async (_ctx, token) => (token as { extra?: Record<string, unknown> }).extra,
    interactions: {
      url: async (_ctx, interaction) => `${s.issuerPath}/interaction/${interaction.uid}`,
    },
    renderError,
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? s.accessTokenTtl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? s.accessTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      Interaction: 3600,
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: false },
      introspection: {
        enabled: true,
        // Confidential clients (the resource servers) may introspect any token; public clients only their own.
        allowedPolicy: async (_ctx, client, token) =>
          client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId === client.clientId || client.clientId === s.resourceServerClient.clientId) return true
          if (client.clientAuthMethod === 'none') return false
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token')
        },
      },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true, ...devicePages },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx, resourceIndicator) {
          if (!s.allowedResource(resourceIndicator)) {
            throw new errors.InvalidTarget('this resource indicator is not allowed by the dev IdP')
          }
          return {
            scope: s.resourceScopes.join(' '),
            accessTokenFormat: 'jwt',
            accessTokenTTL: s.accessTokenTtl,
            jwt: { sign: { alg: keys.current().alg } },
          }
        },
      },
      // https client_id URLs: oidc-provider's own CIMD implementation. Plain http on loopback (and
      // mapped hosts): the Client adapter's resolver (cimd.ts; oidc-provider's fetcher refuses loopback).
      clientIdMetadataDocument: { enabled: true, ack: 'draft-02' },
      rpInitiatedLogout: { enabled: true, ...logoutPages },
      dPoP: dpopFeature(s.dpop),
    },
  }
}
