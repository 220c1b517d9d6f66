/**
 * token/base64url.ts decodes JWS segments on every cache miss: through Buffer and isUtf8 on Node, through atob
 * and a fatal TextDecoder elsewhere. Both must refuse and accept exactly the same segments.
 */
import { describe, expect, it, vi } from 'vitest'

type Module = typeof import('../../packages/core/src/token/base64url.js')

async function load(withNode: boolean): Promise<Module> {
  const proc = process as { getBuiltinModule?: unknown }
  const saved = proc.getBuiltinModule
  if (!withNode) proc.getBuiltinModule = undefined
  try {
    vi.resetModules()
    return await import('../../packages/core/src/token/base64url.js')
  } finally {
    proc.getBuiltinModule = saved
  }
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url')

const cases: [string, string, unknown][] = [
  ['an object', b64('{"alg":"RS256","kid":"k1"}'), { alg: 'RS256', kid: 'k1' }],
  ['UTF-8 beyond ASCII', b64('{"name":"Zoë 東京 🔑"}'), { name: 'Zoë 東京 🔑' }],
  ['an array', b64('[1,2]'), [1, 2]],
  ['null', b64('null'), null],
  ['a lone surrogate escaped in JSON', b64('{"a":"\\ud800"}'), { a: '\ud800' }],
  ['invalid UTF-8 (0xff 0xfe)', b64(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), undefined],
  ['an overlong UTF-8 encoding', b64(Buffer.from([0x22, 0xc0, 0xaf, 0x22])), undefined],
  ['a UTF-8 encoded surrogate', b64(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])), undefined],
  ['padding', `${b64('{"a":1}')}==`, undefined],
  ['standard base64 characters', Buffer.from('{"a":"??>"}').toString('base64'), undefined],
  ['a length no encoding has (4n+1)', `${b64('{"a":1}')}A`.slice(0, 4 * 3 + 1), undefined],
  ['whitespace', ` ${b64('{"a":1}')}`, undefined],
  ['not JSON', b64('{"a"'), undefined],
  ['empty', '', undefined],
]

describe('base64url JSON segments', () => {
  it.each([true, false])('Node path %s: every case decodes or is refused as specified', async (withNode) => {
    const { decodeJson, decodeJsonObject } = await load(withNode)
    for (const [, segment, expected] of cases) {
      expect(decodeJson(segment)).toEqual(expected)
      const isObject = expected !== null && typeof expected === 'object' && !Array.isArray(expected)
      expect(decodeJsonObject(segment)).toEqual(isObject ? expected : undefined)
    }
  })
})
