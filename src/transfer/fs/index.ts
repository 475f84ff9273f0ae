/** @module transfer/fs The object sink on a local folder (the embedded default). */
export { FsObjectSink, METADATA_FOLDER, errnoCode, fsErrorCode } from './fs-object-sink.js'
