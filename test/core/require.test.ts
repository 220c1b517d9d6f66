import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

describe('CommonJS consumers', () => {
  it.each(['@mcp-oauth/core', '@mcp-oauth/express', '@mcp-oauth/fastify', '@mcp-oauth/node', '@mcp-oauth/dev-idp', '@mcp-oauth/doctor'])('require("%s") works on this Node', (name) => {
    // Run from the package's own folder so resolution is what a CommonJS user gets.
    const out = execFileSync(process.execPath, ['-e', `const m = require(${JSON.stringify(name)}); console.log(Object.keys(m).sort().join(","))`], {
      cwd: `${root}test`,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    expect(out.trim().length).toBeGreaterThan(0)
    if (name === '@mcp-oauth/core') expect(out).toMatch(/createMcpAuth.*entra.*github.*google.*keycloak/)
    if (name === '@mcp-oauth/express') expect(out).toContain('mcpAuth')
    if (name === '@mcp-oauth/fastify') expect(out).toContain('default,mcpAuth')
    if (name === '@mcp-oauth/node') expect(out).toContain('withMcpAuth')
    if (name === '@mcp-oauth/dev-idp') expect(out).toContain('startDevIdp')
    if (name === '@mcp-oauth/doctor') expect(out).toContain('diagnose')
  })
})
