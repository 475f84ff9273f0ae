/**
 * @module transfer/open-object-sink
 * Chooses the `ObjectSink` adapter for the configured object store: a local folder (`fs/`) or an
 * S3-compatible service (`s3/`).
 */
import { FsObjectSink } from './fs/index.js'
import type { ObjectSink, ObjectStoreSettings } from './object-sink.js'
import { S3ObjectSink } from './s3/index.js'

/** A sink for `settings`. Opening does no I/O; the first call reaches the store. */
export function openObjectSink(settings: ObjectStoreSettings): ObjectSink {
  switch (settings.kind) {
    case 'fs':
      return new FsObjectSink(settings.root)
    case 's3':
      return new S3ObjectSink(settings)
  }
}
