/**
 * Recognising the common IdPs from their issuer and metadata, so the report can point at the profile and guide
 * that fit and explain the provider's known quirks. Fingerprints use the issuer host first and the metadata's
 * shape second (which also recognises a local emulation or a custom domain).
 */

export interface ProviderHint {
  id: 'keycloak' | 'auth0' | 'entra' | 'okta' | 'cognito' | 'google' | 'github' | 'workos' | 'logto'
  name: string
  /** The profile helper of @mcp-oauth/core. */
  profile: string
  /** Path of the guide in the repository. */
  guide: string
  /** How this provider decides `aud`, and what to configure. */
  audience: string
  /** Supports PKCE S256 without advertising it. */
  pkceUnadvertised?: boolean
  /** Advertises a registration endpoint MCP clients cannot use anonymously. */
  registrationNeedsCredentials?: string
}

const GUIDES = 'docs/idps'

const HINTS: Record<ProviderHint['id'], Omit<ProviderHint, 'id'>> = {
  keycloak: {
    name: 'Keycloak',
    profile: 'keycloak({ url, realm })',
    guide: `${GUIDES}/keycloak.md`,
    audience: 'Keycloak ignores the resource parameter unless the experimental resource-indicators feature is on: add an Audience mapper (Included Custom Audience = your MCP server URL) to a client scope the MCP clients get.',
  },
  auth0: {
    name: 'Auth0',
    profile: 'auth0({ domain, audience })',
    guide: `${GUIDES}/auth0.md`,
    audience: 'Create an API whose Identifier is your MCP server URL and turn on the tenant\'s Resource Parameter Compatibility Profile, so the resource parameter MCP clients send selects it.',
  },
  entra: {
    name: 'Microsoft Entra ID',
    profile: 'entra({ tenantId, audience })',
    guide: `${GUIDES}/entra.md`,
    audience: 'Entra ignores the resource parameter: v2 tokens carry the API app registration\'s Application (client) ID in aud — give that as audience; scopes are requested as api://<app>/<scope> and arrive in scp without the prefix.',
    pkceUnadvertised: true,
  },
  okta: {
    name: 'Okta',
    profile: 'okta({ domain, authorizationServerId })',
    guide: `${GUIDES}/okta.md`,
    audience: 'Okta ignores the resource parameter: aud is the authorization server\'s Audience setting (api://default for the default server). Set it to your MCP server URL, or give it as audience.',
    registrationNeedsCredentials: 'Okta\'s registration endpoint is its client management API: it needs an Okta API token, so MCP clients cannot register themselves. Pre-register a client for them.',
  },
  cognito: {
    name: 'Amazon Cognito',
    profile: 'cognito({ userPoolId, clientId })',
    guide: `${GUIDES}/cognito.md`,
    audience: 'Cognito access tokens have no aud: the profile checks client_id against your app client instead.',
    pkceUnadvertised: true,
  },
  google: {
    name: 'Google',
    profile: 'google({ clientId })',
    guide: `${GUIDES}/google.md`,
    audience: 'Google access tokens are opaque and not bound to a resource: the profile checks them with tokeninfo and requires your OAuth client ID as their audience.',
  },
  github: {
    name: 'GitHub',
    profile: 'github({ clientId, clientSecret })',
    guide: `${GUIDES}/github.md`,
    audience: 'GitHub tokens are opaque and not bound to a resource: the profile checks them with GitHub\'s API and requires that they were issued to your OAuth app.',
    pkceUnadvertised: true,
  },
  workos: {
    name: 'WorkOS AuthKit',
    profile: 'workos({ authkitDomain })',
    guide: `${GUIDES}/workos.md`,
    audience: 'AuthKit writes the resource parameter (your MCP server URL) in aud.',
  },
  logto: {
    name: 'Logto',
    profile: 'logto({ endpoint })',
    guide: `${GUIDES}/logto.md`,
    audience: 'Logto writes the resource parameter in aud for a registered API resource: create one whose indicator is your MCP server URL.',
  },
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '')

function which(issuer: URL, m: Record<string, unknown>): ProviderHint['id'] | undefined {
  const host = issuer.hostname
  const path = issuer.pathname
  if (/^login\.(microsoftonline\.(com|us)|chinacloudapi\.cn)$/.test(host) || /^sts\.(windows\.net|chinacloudapi\.cn)$/.test(host) || 'cloud_instance_name' in m) return 'entra'
  if (/\/realms\/[^/]+$/.test(path) && (str(m.jwks_uri).endsWith('/protocol/openid-connect/certs') || !m.jwks_uri)) return 'keycloak'
  if (/\.auth0\.com$/.test(host) || 'mfa_challenge_endpoint' in m || str(m.registration_endpoint).endsWith('/oidc/register')) return 'auth0'
  if (/\.(okta|oktapreview|okta-emea)\.com$/.test(host) || str(m.registration_endpoint).endsWith('/oauth2/v1/clients')) return 'okta'
  if (/^cognito-idp\.[a-z0-9-]+\.amazonaws\.com$/.test(host) || /^\/[a-z]{2}(?:-[a-z]+)+-\d+_[0-9A-Za-z]+$/.test(path)) return 'cognito'
  if (host === 'accounts.google.com' || (str(m.authorization_endpoint).endsWith('/o/oauth2/v2/auth') && str(m.jwks_uri).endsWith('/oauth2/v3/certs'))) return 'google'
  if (path === '/login/oauth') return 'github'
  if (/\.authkit\.app$/.test(host) || (str(m.registration_endpoint).endsWith('/oauth2/register') && str(m.introspection_endpoint).endsWith('/oauth2/introspection'))) return 'workos'
  if (/\.logto\.app$/.test(host) || (path === '/oidc' && str(m.jwks_uri).endsWith('/oidc/jwks'))) return 'logto'
  return undefined
}

/** The provider this issuer (and its metadata, when found) belongs to, or `undefined`. */
export function detectProvider(issuer: string, metadata: Record<string, unknown> | undefined): ProviderHint | undefined {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    return undefined
  }
  const id = which(url, metadata ?? {})
  return id && { id, ...HINTS[id] }
}
