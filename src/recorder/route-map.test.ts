import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BUILT_IN_MAPS, RouteMapError, parseRouteMap } from './index.js'

const rule = {
  method: 'POST',
  path: '/v1/things/{id}',
  trace_name: 'createThing',
  resource_type: 'thing',
}

function fails(map: unknown, field: string, message: RegExp): void {
  assert.throws(
    () => parseRouteMap(map),
    (error: unknown) => {
      assert.ok(error instanceof RouteMapError)
      assert.equal(error.field, field)
      assert.match(error.message, message)
      return true
    },
  )
}

function withRule(extra: Record<string, unknown>): unknown {
  return {
    name: 'x',
    service_type: 'XS',
    routes: [rule, { ...rule, path: '/v1/other/{id}', ...extra }],
  }
}

describe('parseRouteMap', () => {
  it('accepts the built-in maps and returns frozen copies', () => {
    for (const map of Object.values(BUILT_IN_MAPS)) {
      assert.ok(Object.isFrozen(map) && Object.isFrozen(map.routes[0]))
      assert.deepEqual(parseRouteMap(JSON.parse(JSON.stringify(map))), map)
    }
    assert.deepEqual(Object.keys(BUILT_IN_MAPS), ['ims', 'glance', 's3'])
  })

  it('names the route and the field of each problem', () => {
    fails({ name: 'x', service_type: 'XS', routes: [] }, 'routes', /non-empty/)
    fails({ name: 'x', service_type: 'X S', routes: [rule] }, 'service_type', /does not match/)
    fails({ name: 'x', service_type: 'XS', routes: [rule], extra: 1 }, 'extra', /unknown field/)
    fails(withRule({ method: 'TRACE' }), 'routes[1].method', /one of GET/)
    fails(withRule({ path: 'v1/x' }), 'routes[1].path', /start with \//)
    fails(withRule({ path: '/a/{k+}/b' }), 'routes[1].path', /last segment/)
    fails(withRule({ path: '/a/x{k}' }), 'routes[1].path', /mixes/)
    fails(withRule({ trace_name: '1bad' }), 'routes[1].trace_name', /does not match/)
    fails(
      withRule({ resource_id: 'path.nope' }),
      'routes[1].resource_id',
      /nope is not in the template/,
    )
    fails(withRule({ resource_id: 'body.x' }), 'routes[1].resource_id', /unknown source/)
    fails(
      withRule({ resource_id: 'req.images[]' }),
      'routes[1].resource_id',
      /only allowed in fan_out/,
    )
    fails(withRule({ resource_id: 'job.entities.image_id' }), 'routes[1].resource_id', /async_job/)
    fails(withRule({ resource_id: 'req.a |' }), 'routes[1].resource_id', /empty alternative/)
    fails(withRule({ data_event: 'LIST' }), 'routes[1].data_event', /READ or WRITE/)
    fails(withRule({ colour: 'red' }), 'routes[1].colour', /unknown field/)
    fails(
      withRule({
        async_job: {
          job_id: 'resp.job_id',
          poll_path: '/v1/{tenant}/jobs/{job_id}',
          resource_id: 'job.id',
        },
      }),
      'routes[1].async_job.poll_path',
      /tenant cannot be filled/,
    )
    fails(
      withRule({ lookup: { path: '/v1/things/{id}', name: 'req.name', before: true } }),
      'routes[1].lookup.name',
      /must use resp/,
    )
    fails(
      { name: 'x', service_type: 'XS', routes: [rule, { ...rule, path: '/v1/things/{other}/' }] },
      'routes[1]',
      /same method, path and discriminators as routes\[0\]/,
    )
  })

  it('accepts alternatives, fmt: with path variables and const: text containing |', () => {
    const map = parseRouteMap(
      withRule({
        resource_id: 'resp.id | req.id | fmt:{id}',
        resource_name: 'const:a|b',
        fan_out: 'req.items[].id',
      }),
    )
    assert.equal(map.routes[1]?.resource_name, 'const:a|b')
  })
})
