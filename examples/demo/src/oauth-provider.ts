/**
 * The MCP client's side of OAuth for the demo: an `OAuthClientProvider` kept in memory. Instead of opening a
 * browser, `redirectToAuthorization` hands the URL to the dev IdP's scripted login (user `demo`), which is
 * exactly what a person would do in the browser: log in, consent, get redirected back with a code.
 */
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import type { DpopSession } from '@modelcontextprotocol/client'

export interface DemoProviderOptions {
  redirectUrl: string
  /** CIMD: the https URL of this client's metadata document, used as its client_id. */
  clientMetadataUrl?: string
  /** Called with the authorization URL; returns the redirect URL that carries the code. */
  authorize(url: URL): Promise<URL>
  /** Start with these tokens (to show step-up from a narrower token). */
  tokens?: OAuthTokens
  /**
   * Ask for DPoP-bound tokens (RFC 9449) with this key: the SDK v2 client then signs a proof into every token
   * request and presents the tokens with the `DPoP` scheme and a fresh proof per request.
   */
  dpop?: DpopSession
}

export class DemoOAuthProvider implements OAuthClientProvider {
  readonly #options: DemoProviderOptions
  #client: OAuthClientInformationMixed | undefined
  #tokens: OAuthTokens | undefined
  #verifier = ''
  #discovery: OAuthDiscoveryState | undefined
  /** The code from the last authorization, for `transport.finishAuth(code)`. */
  authorizationCode: string | undefined
  /** The whole redirect back (code, state, RFC 9207 `iss`), for the SDK v2 `transport.finishAuth(params)`. */
  callbackParams: URLSearchParams | undefined
  /** Every authorization URL the client was sent to. */
  readonly authorizationUrls: URL[] = []

  /** Present only with `dpop`: the SDK v2 client turns DPoP on when its provider has this method. */
  dpop?: () => DpopSession

  constructor(options: DemoProviderOptions) {
    this.#options = options
    this.#tokens = options.tokens
    const session = options.dpop
    if (session) this.dpop = () => session
  }

  get redirectUrl(): string {
    return this.#options.redirectUrl
  }

  get clientMetadataUrl(): string | undefined {
    return this.#options.clientMetadataUrl
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'mcp-oauth demo client',
      redirect_uris: [this.#options.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#client = info
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url)
    const back = await this.#options.authorize(url)
    this.authorizationCode = back.searchParams.get('code') ?? undefined
    this.callbackParams = back.searchParams
  }

  /** SDK v2 (SEP-2352): what discovery found, kept beside the code verifier so the callback is checked against it. */
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier
  }

  codeVerifier(): string {
    return this.#verifier
  }
}
