/**
 * Tests of the SDK-HMAC-SHA256 verifier and signer: the official test vector (spec §3.2), requests
 * signed by the real Huawei Node SDK as they arrive on the wire (spec §3.4), tampering and policy
 * refusals, and a signer/verifier round trip.
 */
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { stringify } from 'node:querystring'
import { describe, it } from 'node:test'
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js'
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials.js'
import { GlobalCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/GlobalCredentials.js'
import type { BaseCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/BaseCredentials.js'
import type { IHttpRequest } from '@huaweicloud/huaweicloud-sdk-core/http/IHttpRequest.js'
import type { ParsedAuthorization, ReceivedRequest } from './sdk-hmac.js'
import {
  EMPTY_BODY_SHA256,
  MAX_CLOCK_SKEW_MS,
  UNSIGNED_PAYLOAD,
  canonicalRequest,
  formatSdkDate,
  parseAuthorization,
  parseSdkDate,
  precheckSignedRequest,
  signRequest,
  stringToSign,
  verifySignature,
} from './sdk-hmac.js'

// Published example credentials of the Huawei signing guide.
const AK = 'QTWAOYTTINDUT2QVKYUC'
const SK = 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc'
const SDK_DATE = '20191115T033655Z'
const NOW = Date.UTC(2019, 10, 15, 3, 36, 55)
const PROJECT_ID = '77b6a44cba5143ab91d13ab9a8ff44fd'
const IMAGE_ID = '465076de-41c2-4d3c-9d5b-b8dbc4b4f3c1'
const ENDPOINT = 'http://127.0.0.1:8080'

const sha256 = (data: string | Uint8Array): string =>
  createHash('sha256').update(data).digest('hex')

function parsed(header: string): ParsedAuthorization {
  const auth = parseAuthorization(header)
  assert.ok(!('error' in auth), `Authorization refused: ${'error' in auth ? auth.error : ''}`)
  return auth
}

/** Verifies like the HTTP layer will: parse, precheck, then the signature. Null when accepted. */
function check(
  request: ReceivedRequest,
  secretKey = SK,
  options: { readonly now?: number; readonly allowUnsignedPayload?: boolean } = {},
): string | null {
  const auth = parseAuthorization(String(request.headers['authorization']))
  if ('error' in auth) return auth.error
  const problem = precheckSignedRequest(request, auth, { ...options, now: options.now ?? NOW })
  if (problem !== null) return problem
  return verifySignature(request, auth, secretKey) ? null : 'signature mismatch'
}

function withHeaders(request: ReceivedRequest, headers: Record<string, string>): ReceivedRequest {
  return { ...request, headers: { ...request.headers, ...headers } }
}

// ---------------------------------------------------------------------------------------------
// Real SDK → wire form
// ---------------------------------------------------------------------------------------------

interface SdkCall {
  readonly method: string
  /** Path after the endpoint, `{project_id}` substituted by the credentials; raw path values. */
  readonly url: string
  readonly headers?: Record<string, string>
  readonly queryParams?: Record<string, unknown>
  readonly data?: unknown
}

/**
 * Signs through `processAuthRequest` as HcClient does, then returns the request as the server
 * receives it from DefaultHttpClient/axios: trailing slash stripped, path re-encoded by WHATWG URL,
 * query serialised by `querystring.stringify`, body `JSON.stringify(data)`, User-Agent added after
 * signing.
 */
async function viaSdk(credentials: BaseCredentials, call: SdkCall): Promise<ReceivedRequest> {
  const request: IHttpRequest = {
    endpoint: ENDPOINT,
    url: call.url,
    method: call.method,
    headers: { 'X-Sdk-Date': SDK_DATE, ...call.headers },
    queryParams: { ...call.queryParams },
    data: call.data,
  }
  const signed = await credentials.processAuthRequest(undefined as any, request)
  return toWire(signed)
}

function toWire(signed: IHttpRequest): ReceivedRequest {
  const headers: Record<string, string> = { 'user-agent': 'huaweicloud-usdk-nodejs/3.0' }
  for (const [name, value] of Object.entries(signed.headers as Record<string, unknown>)) {
    headers[name.toLowerCase()] = String(value)
  }
  const url = new URL(String(signed.endpoint))
  return {
    method: String(signed.method),
    rawPath: url.pathname.replace(/\/$/, ''),
    rawQuery: stringify(signed.queryParams ?? {}),
    headers,
    bodySha256: signed.data === undefined ? EMPTY_BODY_SHA256 : sha256(JSON.stringify(signed.data)),
  }
}

const basic = (): BasicCredentials =>
  new BasicCredentials().withAk(AK).withSk(SK).withProjectId(PROJECT_ID)

describe('official test vector (spec §3.2)', () => {
  const request: ReceivedRequest = {
    method: 'GET',
    rawPath: `/v1/${PROJECT_ID}/vpcs`,
    rawQuery: 'limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
    headers: {
      'content-type': 'application/json',
      host: 'service.region.example.com',
      'x-sdk-date': SDK_DATE,
    },
    bodySha256: EMPTY_BODY_SHA256,
  }
  const signedHeaders = ['content-type', 'host', 'x-sdk-date']
  const signature = '7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe'
  const authorization = `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=content-type;host;x-sdk-date, Signature=${signature}`

  it('builds the canonical request of the documentation byte for byte', () => {
    const text = [
      'GET',
      `/v1/${PROJECT_ID}/vpcs/`,
      'limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
      'content-type:application/json',
      'host:service.region.example.com',
      `x-sdk-date:${SDK_DATE}`,
      '',
      'content-type;host;x-sdk-date',
      EMPTY_BODY_SHA256,
    ].join('\n')
    for (const mode of ['decode', 'raw'] as const) {
      assert.equal(canonicalRequest(request, signedHeaders, mode), text)
    }
    assert.equal(sha256(text), 'b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a')
    assert.equal(
      stringToSign(SDK_DATE, text),
      `SDK-HMAC-SHA256\n${SDK_DATE}\nb25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a`,
    )
    assert.equal(
      createHmac('sha256', SK).update(stringToSign(SDK_DATE, text)).digest('hex'),
      signature,
    )
  })

  it('verifies the documented signature', () => {
    const auth = parsed(authorization)
    assert.deepEqual(auth, { accessKeyId: AK, signedHeaders, signature })
    assert.equal(precheckSignedRequest(request, auth, { now: NOW }), null)
    assert.equal(verifySignature(request, auth, SK), true)
  })

  it('signRequest produces the documented Authorization', () => {
    const out = signRequest({
      method: 'GET',
      url: new URL(
        `https://service.region.example.com/v1/${PROJECT_ID}/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0`,
      ),
      headers: { 'Content-Type': 'application/json' },
      accessKeyId: AK,
      secretKey: SK,
      now: NOW,
    })
    assert.deepEqual(out, { 'X-Sdk-Date': SDK_DATE, Authorization: authorization })
  })

  it('the real AKSKSigner produces the documented Authorization', () => {
    const headers: Record<string, string> = AKSKSigner.sign(
      {
        endpoint: `https://service.region.example.com/v1/${PROJECT_ID}/vpcs`,
        method: 'GET',
        headers: { 'content-type': 'application/json', 'X-Sdk-Date': SDK_DATE },
        queryParams: { limit: 2, marker: '13551d6b-755d-4757-b956-536f674975c0' },
      },
      new BasicCredentials().withAk(AK).withSk(SK),
    )
    assert.equal(headers['Authorization'], authorization)
  })

  it('has the SHA-256 of the empty body as EMPTY_BODY_SHA256', () => {
    assert.equal(EMPTY_BODY_SHA256, sha256(''))
  })
})

describe('requests signed by the real Huawei Node SDK', () => {
  it('GET with a query of arrays, spaces, *, ~, unicode and a valueless parameter', async () => {
    const request = await viaSdk(basic(), {
      method: 'GET',
      url: '/v2/{project_id}/images',
      queryParams: {
        limit: 2,
        name: 'my image*~ (copy)',
        __imagetype: 'gold',
        tag: ['zeta', 'a b', 'ü', '*star', '~tilde', 'a-', 'a/'],
        marker: '',
        'sort key': 'created_at:desc',
      },
    })
    assert.ok(request.rawQuery.includes('name=my%20image*~%20(copy)'), request.rawQuery)
    assert.equal(check(request), null)
  })

  it('GET with the SDK choosing X-Sdk-Date itself', async () => {
    const signed = await basic().processAuthRequest(undefined as any, {
      endpoint: ENDPOINT,
      url: '/v2/{project_id}/images',
      method: 'GET',
      headers: { 'content-type': 'application/json' },
      queryParams: { limit: 5 },
    })
    const request = toWire(signed)
    const now = parseSdkDate(String(request.headers['x-sdk-date']))
    assert.ok(now !== undefined)
    assert.equal(check(request, SK, { now: now + 60_000 }), null)
  })

  it('POST with a JSON body, X-Project-Id and an X-Security-Token', async () => {
    const request = await viaSdk(basic().withSecurityToken('temporary-token-value'), {
      method: 'POST',
      url: '/v1/cloudimages/action',
      headers: { 'content-type': 'application/json' },
      data: { image_id: IMAGE_ID, name: 'ims_copy', description: 'test copy ü', tags: ['a', 'b'] },
    })
    assert.equal(request.headers['x-project-id'], PROJECT_ID)
    assert.match(
      String(request.headers['authorization']),
      /SignedHeaders=content-type;host;x-project-id;x-sdk-date;x-security-token,/,
    )
    assert.equal(check(request), null)
  })

  it('PUT with a JSON body', async () => {
    const request = await viaSdk(basic(), {
      method: 'PUT',
      url: `/v1/cloudimages/${IMAGE_ID}/members/${PROJECT_ID}`,
      headers: { 'content-type': 'application/json' },
      data: { status: 'accepted', vault_id: null },
    })
    assert.equal(check(request), null)
  })

  it('DELETE without a body', async () => {
    const request = await viaSdk(basic(), {
      method: 'DELETE',
      url: `/v2/images/${IMAGE_ID}`,
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(request.bodySha256, EMPTY_BODY_SHA256)
    assert.equal(check(request), null)
  })

  it('GlobalCredentials sign X-Domain-Id', async () => {
    const credentials = new GlobalCredentials().withAk(AK).withSk(SK).withDomainId('domain-42')
    const request = await viaSdk(credentials, { method: 'GET', url: '/v3/auth/domains' })
    assert.match(
      String(request.headers['authorization']),
      /SignedHeaders=host;x-domain-id;x-sdk-date,/,
    )
    assert.equal(check(request), null)
  })

  it('a non-JSON content type is signed with UNSIGNED-PAYLOAD', async () => {
    const request = await viaSdk(basic(), {
      method: 'PATCH',
      url: `/v2/images/${IMAGE_ID}`,
      headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
      data: [{ op: 'replace', path: '/name', value: 'renamed' }],
    })
    assert.equal(request.headers['x-sdk-content-sha256'], UNSIGNED_PAYLOAD)
    assert.match(String(request.headers['authorization']), /;x-sdk-content-sha256;/)
    assert.equal(check(request), null)
    // The body is not covered: another body still verifies. That is what UNSIGNED-PAYLOAD means.
    assert.equal(check({ ...request, bodySha256: sha256('[]') }), null)
    assert.equal(
      check(request, SK, { allowUnsignedPayload: false }),
      'unsigned payload not allowed',
    )
  })

  it('any content type but exactly application/json (here with a charset) gets UNSIGNED-PAYLOAD', async () => {
    const request = await viaSdk(basic(), {
      method: 'POST',
      url: '/v2/{project_id}/images/resource_instances/action',
      headers: { 'content-type': 'application/json;charset=UTF-8' },
      data: { action: 'filter', tags: [{ key: 'k', values: ['v'] }] },
    })
    assert.equal(request.headers['x-sdk-content-sha256'], UNSIGNED_PAYLOAD)
    assert.equal(check(request), null)
  })

  // Spec §3.4 item 4: signed and sent path differ; each case needs one of the two URI variants.
  for (const [tag, wire] of [
    ['a b', 'a%20b'],
    ['ü', '%C3%BC'],
    ['k=v', 'k=v'],
  ] as const) {
    it(`tag path '${tag}' (sent as ${wire})`, async () => {
      const request = await viaSdk(basic(), {
        method: 'PUT',
        url: `/v2/images/${IMAGE_ID}/tags/${tag}`,
        headers: { 'content-type': 'application/json' },
      })
      assert.equal(request.rawPath, `/v2/images/${IMAGE_ID}/tags/${wire}`)
      assert.equal(check(request), null)
      assert.notEqual(check({ ...request, rawPath: `/v2/images/${IMAGE_ID}/tags/x` }), null)
    })
  }

  it('signRequest and the SDK agree on the same request', async () => {
    const request = await viaSdk(basic(), {
      method: 'POST',
      url: `/v1/cloudimages/${IMAGE_ID}/copy`,
      headers: { 'content-type': 'application/json' },
      queryParams: { dry: 'yes', z: ['2', '1'] },
      data: { name: 'ims_copy' },
    })
    const ours = signRequest({
      method: 'POST',
      url: new URL(`${ENDPOINT}${request.rawPath}?${request.rawQuery}`),
      headers: { 'Content-Type': 'application/json', 'X-Project-Id': PROJECT_ID },
      body: JSON.stringify({ name: 'ims_copy' }),
      accessKeyId: AK,
      secretKey: SK,
      now: NOW,
    })
    assert.equal(ours['Authorization'], request.headers['authorization'])
  })
})

describe('refusals', () => {
  const base = (): Promise<ReceivedRequest> =>
    viaSdk(basic(), {
      method: 'POST',
      url: '/v2/{project_id}/images',
      headers: { 'content-type': 'application/json' },
      queryParams: { limit: 2, tag: ['a', 'b'] },
      data: { name: 'image', min_disk: 40 },
    })

  it('the unmodified base request verifies', async () => {
    assert.equal(check(await base()), null)
  })

  it('a changed body fails', async () => {
    const request = await base()
    const body = JSON.stringify({ name: 'image', min_disk: 41 })
    assert.equal(check({ ...request, bodySha256: sha256(body) }), 'signature mismatch')
  })

  it('a changed signed header value fails', async () => {
    const request = await base()
    assert.equal(check(withHeaders(request, { 'x-project-id': 'other' })), 'signature mismatch')
    assert.equal(check(withHeaders(request, { host: '127.0.0.1:8081' })), 'signature mismatch')
  })

  it('an unsigned header may change', async () => {
    assert.equal(check(withHeaders(await base(), { 'user-agent': 'curl/8' })), null)
  })

  it('a changed path fails', async () => {
    const request = await base()
    for (const rawPath of [
      `/v2/${PROJECT_ID}/images/x`,
      `/v2/${PROJECT_ID}/Images`,
      `/v2/${PROJECT_ID}`,
      `/v3/${PROJECT_ID}/images`,
    ]) {
      assert.equal(check({ ...request, rawPath }), 'signature mismatch', rawPath)
    }
  })

  it('a sent trailing slash or a different query encoding is still the same request', async () => {
    const request = await base()
    assert.equal(check({ ...request, rawPath: `${request.rawPath}/` }), null)
    assert.equal(check({ ...request, rawQuery: 'tag=b&limit=%32&tag=a' }), null)
  })

  it('a changed query fails', async () => {
    const request = await base()
    for (const rawQuery of [
      'limit=3&tag=a&tag=b',
      'limit=2&tag=a',
      'limit=2&tag=a&tag=b&x=1',
      '',
    ]) {
      assert.equal(check({ ...request, rawQuery }), 'signature mismatch', rawQuery)
    }
  })

  it('a date more than 15 minutes away fails the precheck', async () => {
    const request = await base()
    assert.equal(check(request, SK, { now: NOW + 16 * 60_000 }), 'signature expired')
    assert.equal(check(request, SK, { now: NOW - 16 * 60_000 }), 'x-sdk-date in the future')
    assert.equal(check(request, SK, { now: NOW + MAX_CLOCK_SKEW_MS }), null)
    assert.equal(check(request, SK, { now: NOW - MAX_CLOCK_SKEW_MS }), null)
  })

  it('a malformed X-Sdk-Date fails the precheck', async () => {
    const request = await base()
    for (const date of ['2019-11-15T03:36:55Z', '20191115T033655', '20191131T033655Z', '']) {
      assert.equal(check(withHeaders(request, { 'x-sdk-date': date })), 'malformed x-sdk-date')
    }
  })

  it('a wrong secret key fails', async () => {
    assert.equal(check(await base(), `${SK}x`), 'signature mismatch')
    assert.equal(check(await base(), ''), 'signature mismatch')
  })

  it('an UNSIGNED-PAYLOAD header that is not signed is refused and never replaces the hash', async () => {
    const request = withHeaders(
      { ...(await base()), bodySha256: sha256('{"name":"evil"}') },
      { 'x-sdk-content-sha256': UNSIGNED_PAYLOAD },
    )
    assert.equal(check(request), 'x-sdk-content-sha256 not signed')
    const auth = parsed(String(request.headers['authorization']))
    assert.equal(verifySignature(request, auth, SK), false)
  })

  it('requires x-sdk-date and host to be signed, even under a correct signature', () => {
    const request: ReceivedRequest = {
      method: 'GET',
      rawPath: '/v2/images',
      rawQuery: '',
      headers: { host: 'ims.example.com', 'x-sdk-date': SDK_DATE, 'x-project-id': PROJECT_ID },
      bodySha256: EMPTY_BODY_SHA256,
    }
    for (const [signedHeaders, reason] of [
      [['host', 'x-project-id'], 'x-sdk-date not signed'],
      [['x-project-id', 'x-sdk-date'], 'host not signed'],
    ] as const) {
      const text = canonicalRequest(request, signedHeaders, 'decode')
      const signature = createHmac('sha256', SK).update(stringToSign(SDK_DATE, text)).digest('hex')
      const auth = { accessKeyId: AK, signedHeaders, signature }
      assert.equal(verifySignature(request, auth, SK), true)
      assert.equal(precheckSignedRequest(request, auth, { now: NOW }), reason)
    }
  })

  it('a signed header that is absent fails the precheck and the signature', async () => {
    const request = await base()
    const headers = { ...request.headers }
    delete headers['x-project-id']
    const stripped = { ...request, headers }
    assert.equal(check(stripped), 'signed header x-project-id missing')
    const auth = parsed(String(request.headers['authorization']))
    assert.equal(verifySignature(stripped, auth, SK), false)
  })

  it('signed header names that exist on Object.prototype are just missing', () => {
    const request: ReceivedRequest = {
      method: 'GET',
      rawPath: '/',
      rawQuery: '',
      headers: { host: 'h', 'x-sdk-date': SDK_DATE },
      bodySha256: EMPTY_BODY_SHA256,
    }
    for (const name of ['constructor', '__proto__']) {
      const auth = parsed(
        `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=${name};host;x-sdk-date, Signature=${'0'.repeat(64)}`,
      )
      assert.equal(
        precheckSignedRequest(request, auth, { now: NOW }),
        `signed header ${name} missing`,
      )
      assert.equal(verifySignature(request, auth, SK), false)
    }
  })

  it('refuses malformed Authorization headers with a reason', () => {
    const sig = 'a'.repeat(64)
    const ok = `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;x-sdk-date, Signature=${sig}`
    assert.ok(!('error' in parseAuthorization(ok)))
    const cases: ReadonlyArray<readonly [string, RegExp]> = [
      ['', /unsupported/],
      ['SDK-HMAC-SHA256', /malformed/],
      ['Bearer abc', /unsupported/],
      ['sdk-hmac-sha256 Access=AK, SignedHeaders=host, Signature=' + sig, /unsupported/],
      [
        `V11-HMAC-SHA256 Credential=${AK}/20191115/r/s, SignedHeaders=host, Signature=${sig}`,
        /unsupported/,
      ],
      [`SDK-HMAC-SHA256, Access=${AK}, SignedHeaders=host, Signature=${sig}`, /unsupported/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;x-sdk-date`, /malformed/],
      [`SDK-HMAC-SHA256 Access=${AK}, Signature=${sig}, SignedHeaders=host`, /signature|malformed/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host, Signature=${sig}, X=1`, /malformed/],
      [`SDK-HMAC-SHA256 Access=${AK} SignedHeaders=host, Signature=${sig}`, /malformed/],
      [`SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature=${sig}`, /Access/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=, Signature=${sig}`, /empty/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;;x-sdk-date, Signature=${sig}`, /empty/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;, Signature=${sig}`, /empty/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;host, Signature=${sig}`, /duplicate/],
      [
        `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=Host;x-sdk-date, Signature=${sig}`,
        /lowercase/,
      ],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host x;date, Signature=${sig}`, /lowercase/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host, Signature=${sig.toUpperCase()}`, /hex/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host, Signature=${sig.slice(1)}`, /hex/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host, Signature=${sig}0`, /hex/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host, Signature=${sig} `, /hex/],
      [`SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host, Signature=${'g'.repeat(64)}`, /hex/],
    ]
    for (const [header, reason] of cases) {
      const result = parseAuthorization(header)
      assert.ok('error' in result, `accepted: ${header}`)
      assert.match(result.error, reason, header)
    }
  })

  it('tolerates extra spaces after the algorithm and the commas', () => {
    const sig = 'b'.repeat(64)
    const auth = parseAuthorization(
      `SDK-HMAC-SHA256  Access=${AK},   SignedHeaders=host;x-sdk-date,  Signature=${sig}`,
    )
    assert.deepEqual(auth, {
      accessKeyId: AK,
      signedHeaders: ['host', 'x-sdk-date'],
      signature: sig,
    })
  })

  it('a bad percent-escape in the path or query never throws', async () => {
    const request = await base()
    const auth = parsed(String(request.headers['authorization']))
    for (const change of [
      { rawPath: '/v2/%zz/images' },
      { rawPath: '/v2/%E0%A4%A/images' },
      { rawPath: '/v2/%/images' },
      { rawQuery: 'limit=%zz' },
      { rawQuery: '%FF=1' },
    ]) {
      assert.equal(verifySignature({ ...request, ...change }, auth, SK), false)
    }
    assert.throws(() => canonicalRequest({ ...request, rawPath: '/%zz' }, [], 'decode'), URIError)
    assert.equal(
      canonicalRequest({ ...request, rawPath: '/%zz' }, [], 'raw').split('\n')[1],
      '/%25zz/',
    )
  })

  it('a path with a stray % that the client signed as received still verifies', () => {
    const url = new URL('http://ims.example.com/v2/images/50%/tags/%zz')
    const out = signRequest({
      method: 'GET',
      url,
      headers: {},
      accessKeyId: AK,
      secretKey: SK,
      now: NOW,
    })
    const request: ReceivedRequest = {
      method: 'GET',
      rawPath: url.pathname,
      rawQuery: '',
      headers: { host: url.host, 'x-sdk-date': SDK_DATE, authorization: out['Authorization'] },
      bodySha256: EMPTY_BODY_SHA256,
    }
    assert.equal(check(request), null)
    assert.equal(check({ ...request, rawPath: '/v2/images/50%/tags/%zy' }), 'signature mismatch')
  })

  it('a signature of the wrong length fails without throwing', async () => {
    const request = await base()
    const auth = parsed(String(request.headers['authorization']))
    for (const signature of [auth.signature.slice(1), `${auth.signature}0`, '', 'é'.repeat(32)]) {
      assert.equal(verifySignature(request, { ...auth, signature }, SK), false)
    }
  })
})

describe('X-Sdk-Date', () => {
  it('parses and formats the basic ISO 8601 form in UTC', () => {
    assert.equal(parseSdkDate(SDK_DATE), NOW)
    assert.equal(formatSdkDate(NOW), SDK_DATE)
    assert.equal(formatSdkDate(NOW + 999), SDK_DATE)
    assert.equal(parseSdkDate('20240229T235959Z'), Date.UTC(2024, 1, 29, 23, 59, 59))
  })

  it('refuses malformed values and dates that do not exist', () => {
    for (const value of [
      '20230229T000000Z',
      '20191131T000000Z',
      '20191301T000000Z',
      '20191115T240000Z',
      '20191115T236000Z',
      '20191115T233360Z',
      '20191115T033655z',
      '20191115t033655Z',
      '20191115T033655.000Z',
      ' 20191115T033655Z',
      '2019111T5033655Z',
      '',
    ]) {
      assert.equal(parseSdkDate(value), undefined, value)
    }
  })
})

describe('canonical form details', () => {
  const request: ReceivedRequest = {
    method: 'GET',
    rawPath: '',
    rawQuery: 'b=2&a&c=x+y&a=%7E&%2A=1&&a=',
    headers: { host: ' h ', 'x-sdk-date': SDK_DATE, 'x-multi': ['one', ' two '] },
    bodySha256: EMPTY_BODY_SHA256,
  }

  it('empty path is /, query sorted and RFC 3986 encoded, header values trimmed and joined', () => {
    assert.equal(
      canonicalRequest(request, ['host', 'x-multi', 'x-sdk-date'], 'decode'),
      [
        'GET',
        '/',
        '%2A=1&a=&a=&a=~&b=2&c=x%20y',
        'host:h',
        'x-multi:one, two',
        `x-sdk-date:${SDK_DATE}`,
        '',
        'host;x-multi;x-sdk-date',
        EMPTY_BODY_SHA256,
      ].join('\n'),
    )
  })

  it('sorts query pairs by decoded name and value, as the SDK sorts its raw parameters', () => {
    // Raw order 'a-' < 'a/' < 'é'; encoded order would put 'a%2F' and '%C3%A9' first.
    const text = canonicalRequest({ ...request, rawQuery: 'k=%C3%A9&k=a%2F&k=a-' }, [], 'decode')
    assert.equal(text.split('\n')[2], 'k=a-&k=a%2F&k=%C3%A9')
  })
})

describe('signRequest → verifySignature round trip', () => {
  interface Case {
    readonly method: string
    readonly url: string
    readonly headers?: Record<string, string>
    readonly body?: string | Uint8Array
    readonly unsignedPayload?: boolean
  }
  const cases: readonly Case[] = [
    { method: 'GET', url: 'https://ims.example.com' },
    { method: 'GET', url: 'https://ims.example.com/' },
    { method: 'GET', url: 'https://ims.example.com/v2/images?limit=10&marker=abc' },
    { method: 'GET', url: 'https://ims.example.com:8443/v2/images?name=a+b&name=a%20c' },
    { method: 'GET', url: 'http://127.0.0.1:8080/v2/images?tag=ü&tag=*&tag=~&flag' },
    { method: 'GET', url: 'http://[::1]:9000/v3/traces?from=1&to=2&trace_name=a%26b' },
    { method: 'GET', url: 'http://h/v2/images/x/tags/a%20b' },
    { method: 'GET', url: 'http://h/v2/images/x/tags/ü' },
    { method: 'GET', url: 'http://h/v2/images/x/tags/k=v;w' },
    { method: 'GET', url: 'http://h/a//b/?q=%2B' },
    {
      method: 'POST',
      url: 'http://h/v3/p/tracker',
      headers: { 'Content-Type': 'application/json' },
      body: '{"tracker_type":"system","tracker_name":"system"}',
    },
    {
      method: 'post',
      url: 'http://h/v3/p/notifications',
      headers: { 'content-type': 'application/json', 'X-Project-Id': PROJECT_ID },
      body: '{"notification_name":"ü"}',
    },
    {
      method: 'PUT',
      url: 'http://h/v3/p/tracker',
      headers: { 'Content-Type': 'application/json', 'X-Domain-Id': 'd' },
      body: new TextEncoder().encode('{"status":"disabled"}'),
    },
    {
      method: 'PATCH',
      url: 'http://h/v2/images/x',
      headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' },
      body: '[{"op":"remove","path":"/x"}]',
      unsignedPayload: true,
    },
    {
      method: 'PUT',
      url: 'http://h/v2/images/x/file',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: new Uint8Array([0, 1, 2, 255]),
      unsignedPayload: true,
    },
    { method: 'DELETE', url: 'http://h/v3/p/tracker?tracker_name=system' },
    { method: 'DELETE', url: 'http://h/v3/p/notifications?notification_id=a&notification_id=b' },
    {
      method: 'GET',
      url: 'http://h/v3/p/traces?limit=10',
      headers: { 'X-Security-Token': 'tok', 'X-Request-Id': '  spaced  ' },
    },
    { method: 'HEAD', url: 'http://h/v3/p/traces', headers: { Accept: '*/*' } },
    { method: 'OPTIONS', url: 'http://h/?a=1&a=1&b=' },
  ]

  for (const entry of cases) {
    it(`${entry.method} ${entry.url}${entry.unsignedPayload === true ? ' (unsigned payload)' : ''}`, () => {
      const url = new URL(entry.url)
      const out = signRequest({
        method: entry.method,
        url,
        headers: entry.headers ?? {},
        ...(entry.body === undefined ? {} : { body: entry.body }),
        accessKeyId: AK,
        secretKey: SK,
        now: NOW,
        ...(entry.unsignedPayload === undefined ? {} : { unsignedPayload: entry.unsignedPayload }),
      })
      const headers: Record<string, string> = { host: url.host }
      for (const [name, value] of Object.entries({ ...entry.headers, ...out })) {
        headers[name.toLowerCase()] = value
      }
      const request: ReceivedRequest = {
        method: entry.method.toUpperCase(),
        rawPath: url.pathname,
        rawQuery: url.search.slice(1),
        headers,
        bodySha256: entry.body === undefined ? EMPTY_BODY_SHA256 : sha256(entry.body),
      }
      assert.equal(check(request), null)
      const auth = parsed(String(headers['authorization']))
      for (let i = 0; i < auth.signature.length; i++) {
        const flipped = auth.signature[i] === '0' ? '1' : '0'
        const signature = auth.signature.slice(0, i) + flipped + auth.signature.slice(i + 1)
        assert.equal(verifySignature(request, { ...auth, signature }, SK), false, `position ${i}`)
      }
    })
  }

  it('signs every given header plus host and x-sdk-date, sorted', () => {
    const out = signRequest({
      method: 'GET',
      url: new URL('http://ims.example.com:8080/x'),
      headers: { 'X-Project-Id': 'p', Accept: 'application/json' },
      accessKeyId: AK,
      secretKey: SK,
      now: NOW,
      unsignedPayload: true,
    })
    assert.equal(out['X-Sdk-Content-Sha256'], UNSIGNED_PAYLOAD)
    assert.deepEqual(parsed(String(out['Authorization'])).signedHeaders, [
      'accept',
      'host',
      'x-project-id',
      'x-sdk-content-sha256',
      'x-sdk-date',
    ])
  })

  it('refuses headers the signer owns, duplicates and unusable values', () => {
    const sign = (headers: Record<string, string>, accessKeyId = AK): unknown =>
      signRequest({
        method: 'GET',
        url: new URL('http://h/'),
        headers,
        accessKeyId,
        secretKey: SK,
        now: NOW,
      })
    for (const headers of [
      { Authorization: 'x' },
      { 'X-Sdk-Date': SDK_DATE },
      { 'x-sdk-content-sha256': UNSIGNED_PAYLOAD },
      { 'X-A': '1', 'x-a': '2' },
      { 'bad name': '1' },
      { 'x-a': 'line\r\nx-b: injected' },
    ]) {
      assert.throws(() => sign(headers), TypeError, JSON.stringify(headers))
    }
    assert.throws(() => sign({}, 'A K'), TypeError)
    assert.throws(() => sign({}, 'AK,x'), TypeError)
  })
})
