/** Why a login could not happen; `code` is stable, the message says what to do. */
export type LoginErrorCode =
  /** The URL did not answer like an OAuth-protected MCP server (no 401 with protected resource metadata). */
  | 'ERR_LOGIN_NOT_PROTECTED'
  /** Metadata missing or malformed (PRM, authorization server metadata). */
  | 'ERR_LOGIN_DISCOVERY'
  /** The authorization server offers no device flow (no device_authorization_endpoint). */
  | 'ERR_LOGIN_NO_DEVICE_FLOW'
  /** No client id: no registration endpoint and none given. */
  | 'ERR_LOGIN_NO_CLIENT'
  /** The user refused, or the code expired before they confirmed it. */
  | 'ERR_LOGIN_DENIED'
  | 'ERR_LOGIN_EXPIRED'
  /** No stored token for this server, or it cannot be refreshed. */
  | 'ERR_LOGIN_NO_TOKEN'
  /** The authorization server refused or failed (its OAuth error is in the message). */
  | 'ERR_LOGIN_AS'

export class LoginError extends Error {
  override readonly name = 'LoginError'
  constructor(
    readonly code: LoginErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
