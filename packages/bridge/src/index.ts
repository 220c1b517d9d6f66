/**
 * @mcp-oauth/bridge — an OAuth 2.1 authorization server for MCP clients in front of an IdP that cannot
 * register them (GitHub, Google, Entra ID, Cognito, any OIDC or OAuth 2.0 server).
 */
export { createBridge } from './bridge.js'
export type { Bridge, BridgeAuthInfo, NodeHandler } from './bridge.js'
export type { BridgeOptions } from './options.js'
export { github, google, entra, cognito, oidc, oauth2 } from './presets.js'
export type { UpstreamConfig } from './presets.js'
export { MemoryBridgeStore } from './store.js'
export type { BridgeStore } from './store.js'
export { BridgeConfigError, BridgeError } from './errors.js'
export type { BridgeConfigErrorCode, BridgeErrorCode } from './errors.js'
export { CONSENT_FORM_ID } from './pages.js'
