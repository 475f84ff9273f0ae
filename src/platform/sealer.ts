/**
 * @module platform/sealer
 * The port of anything that seals secrets at rest: the server `MasterKey` (auth/master-key.ts) is
 * the implementation; key stores and delivery secrets depend only on this shape.
 */

/** Seals secrets at rest; `open` throws when the value was sealed for another `boundTo` or altered. */
export interface Sealer {
  seal(plaintext: string, boundTo: string): string
  open(sealed: string, boundTo: string): string
}
