/**
 * The bridge's two error types: misconfiguration is a `TypeError` thrown by `createBridge()` (never on the
 * first request); run-time failures the host can act on carry a stable `code`.
 */

export type BridgeConfigErrorCode = 'ERR_BRIDGE_CONFIG'

/** A bad option: thrown at creation, with the option path and what to write instead. */
export class BridgeConfigError extends TypeError {
  override readonly name = 'BridgeConfigError'
  readonly code: BridgeConfigErrorCode = 'ERR_BRIDGE_CONFIG'
  /** The option that is wrong, e.g. `upstream.clientId` or `resource`. */
  readonly option: string
  constructor(option: string, message: string) {
    super(`@mcp-oauth/bridge: option "${option}": ${message}`)
    this.option = option
  }
}

export type BridgeErrorCode =
  /** `upstreamToken()` was given an AuthInfo whose token this bridge did not issue. */
  | 'ERR_BRIDGE_FOREIGN_TOKEN'
  /** No upstream token is stored for this user (never signed in through this bridge, or it expired). */
  | 'ERR_BRIDGE_NO_UPSTREAM_TOKEN'
  /** The upstream token expired and could not be refreshed (no refresh token, or the IdP refused it). */
  | 'ERR_BRIDGE_UPSTREAM_EXPIRED'
  /** The upstream IdP could not be reached or answered 5xx / garbage. */
  | 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE'

export class BridgeError extends Error {
  override readonly name = 'BridgeError'
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
