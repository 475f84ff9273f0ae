/**
 * @module recorder/maps/built-in-maps
 * The maps shipped with OpenCTS, by name (`opencts record --map ims,glance`).
 */
import type { RouteMap } from '../route-map.js'
import { GLANCE_MAP } from './glance.js'
import { IMS_MAP } from './ims.js'
import { S3_MAP } from './s3.js'

export const BUILT_IN_MAPS: Readonly<Record<'ims' | 'glance' | 's3', RouteMap>> = Object.freeze({
  ims: IMS_MAP,
  glance: GLANCE_MAP,
  s3: S3_MAP,
})
