/**
 * @module http/route-auth
 * What each route requires of its caller, declared in its `config.auth` (a route without one is
 * refused at start-up, so no route can be forgotten):
 * - `'public'`: no credential (version discovery, health, sign-in, the OpenAPI document);
 * - `'authenticated'`: any valid credential (the caller's own token API);
 * - `{ action, scope }`: a credential valid for the `:project_id` (or `:domain_id`) of the path whose
 *   policies allow `action` (spec/cts-api.md §14.2).
 */
import type { CtsAction } from '../auth/index.js'

export type RouteAuth =
  'public' | 'authenticated' | { readonly action: CtsAction; readonly scope: 'project' | 'domain' }

/** Config of a route acting on `:project_id` with `action`. */
export function projectRoute(action: CtsAction): {
  readonly projectScoped: true
  readonly auth: RouteAuth
} {
  return { projectScoped: true, auth: { action, scope: 'project' } }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route requires of its caller (see http/route-auth). */
    auth?: RouteAuth
  }
}
