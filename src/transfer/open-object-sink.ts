/**
 * @module transfer/open-object-sink
 * Chooses the `ObjectSink` adapter for the configured object store: a local folder (`fs/`) or an
 * S3-compatible service (`s3/`). The AWS SDK is loaded only when an S3 store is configured, so a
 * server or `opencts verify` on a local folder does not pay for it.
 */
import { FsObjectSink } from './fs/index.js'
import type { ObjectSink, ObjectStoreSettings } from './object-sink.js'

/** A sink for `settings`. Opening does no I/O; the first call reaches the store. */
export async function openObjectSink(settings: ObjectStoreSettings): Promise<ObjectSink> {
  switch (settings.kind) {
    case 'fs':
      return new FsObjectSink(settings.root)
    case 's3': {
      const { S3ObjectSink } = await import('./s3/index.js')
      return new S3ObjectSink(settings)
    }
  }
}
