import assert from 'node:assert/strict'
import { createServer, type IncomingMessage } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { it } from 'node:test'
import { DEFAULT_IDENTITY_HEADERS } from './capture.js'
import { RecorderProxy } from './recorder-proxy.js'

it('abandons the upstream call when its caller sends a broken chunk and goes away', async (t) => {
  let closed: (complete: boolean) => void = () => undefined
  const upstreamClosed = new Promise<boolean>((resolve) => (closed = resolve))
  const upstream = createServer((req: IncomingMessage) => {
    req.resume()
    req.on('close', () => closed(req.complete))
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const proxy = new RecorderProxy({
    upstream: new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`),
    maps: [],
    reporter: { enqueue: () => undefined, stats: () => ({}) },
    identityHeaders: DEFAULT_IDENTITY_HEADERS,
    catchAll: null,
  })
  const server = createServer(proxy.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    proxy.close()
    server.closeAllConnections()
    upstream.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await new Promise((resolve) => upstream.close(resolve))
  })
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
  socket.on('error', () => undefined)
  socket.write(
    'POST /v2/images HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n' +
      'Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n',
  )
  // The upstream call is under way before the caller breaks it.
  await new Promise((resolve) => setTimeout(resolve, 200))
  socket.write('zz\r\n')
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 5000))
  assert.equal(await Promise.race([upstreamClosed, timeout]), false)
  socket.destroy()
})
