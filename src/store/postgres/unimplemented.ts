/**
 * @module store/postgres/unimplemented
 * TEMPORARY scaffolding while the engine's ports are written in parallel: a port whose every method
 * rejects. Deleted once every port of the engine exists.
 */
export function unimplementedPort<T extends object>(port: string): T {
  return new Proxy({} as T, {
    get: (_target, method) => () =>
      Promise.reject(new Error(`postgres ${port}.${String(method)} is not written yet`)),
  })
}
