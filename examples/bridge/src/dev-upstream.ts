/**
 * The dev IdP as the bridge's upstream, for the demo, the tests and the bench: the one client the bridge is at
 * the IdP, and the matching upstream configuration — like github() for the GitHub-like shape (explicit endpoints,
 * no PKCE, the secret posted, identity from the user-info endpoint), or discovery with PKCE for the OIDC shape.
 */
import type { ClientMetadata } from 'oidc-provider'
import { oauth2, oidc, type UpstreamConfig } from '@mcp-oauth/bridge'

export const DEV_BRIDGE_CLIENT_ID = 'mcp-bridge'

/** The bridge's client at the dev IdP (`clients` option of startDevIdp). */
export function devBridgeClient(callbackUrl: string, clientSecret: string, githubLike: boolean): ClientMetadata {
  return {
    client_id: DEV_BRIDGE_CLIENT_ID,
    client_secret: clientSecret,
    client_name: 'the MCP bridge',
    redirect_uris: [callbackUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: githubLike ? 'client_secret_post' : 'client_secret_basic',
  }
}

/** The upstream configuration for a dev IdP at `issuer`. */
export function devUpstream(issuer: string, clientSecret: string, githubLike: boolean, overrides: Partial<UpstreamConfig> = {}): UpstreamConfig {
  const creds = { clientId: DEV_BRIDGE_CLIENT_ID, clientSecret }
  if (!githubLike) return oidc({ ...creds, issuer, name: 'dev IdP', ...overrides })
  return oauth2({
    ...creds,
    name: 'GitHub-like dev IdP',
    authorizationEndpoint: `${issuer}/auth`,
    tokenEndpoint: `${issuer}/token`,
    userinfoEndpoint: `${issuer}/me`,
    issuer,
    scopes: ['openid', 'offline_access'],
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_post',
    ...(overrides as Partial<Parameters<typeof oauth2>[0]>),
  })
}
