/**
 * IdP profiles: the issuer form, audience convention, claim mapping and known quirks of common identity
 * providers, from the few values a user knows. Each returns plain options to extend or override.
 */
export { keycloak, type KeycloakOptions } from './keycloak.js'
export { auth0, type Auth0Options } from './auth0.js'
export { entra, type EntraOptions } from './entra.js'
export { okta, type OktaOptions } from './okta.js'
export { cognito, type CognitoOptions } from './cognito.js'
export { workos, type WorkOSOptions } from './workos.js'
export { logto, type LogtoOptions } from './logto.js'
export { google, type GoogleOptions } from './google.js'
export { github, type GitHubOptions } from './github.js'
export type { VerifierProfile } from './verifier-profile.js'
