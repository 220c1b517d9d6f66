/** CommonJS consumers of the bridge and the login packages (require(esm), Node ≥ 20.19). */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

describe('CommonJS consumers', () => {
  it.each([
    ['@mcp-oauth/bridge', /createBridge.*github/],
    ['@mcp-oauth/login', /accessToken.*login/],
  ])('require("%s") works on this Node', (name, exports) => {
    const out = execFileSync(process.execPath, ['-e', `const m = require(${JSON.stringify(name)}); console.log(Object.keys(m).sort().join(","))`], {
      cwd: `${root}test`,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    expect(out).toMatch(exports)
  })
})
