// oidc-provider (9.13.x) has no "exports" map, so its internal modules can be imported by path.
// We use exactly one of them, to swap the provider's signing keys in place (see rotateKeys()).
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  /** Call with `this` = the Provider: validates the private JWKS and replaces the keystore and published JWKS. */
  export default function initializeKeystore(this: unknown, jwks: { keys: Record<string, unknown>[] }): void
}
