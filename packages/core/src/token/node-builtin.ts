/**
 * A Node built-in module when the core runs on Node (`process.getBuiltinModule`, Node ≥ 20.16), else
 * `undefined`: feature detection without importing `node:` modules, so the core still loads on Workers, Deno
 * and browsers, which take the web-standard paths.
 */
const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule

export function nodeBuiltin<T>(id: 'node:crypto' | 'node:buffer' | 'node:os'): T | undefined {
  return getBuiltin?.(id) as T | undefined
}
