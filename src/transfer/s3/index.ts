/** @module transfer/s3 The S3-compatible object sink (AWS S3, Huawei OBS, Ceph RGW, MinIO). */
export {
  S3ObjectSink,
  s3ErrorCode,
  s3Failure,
  type S3Settings,
  type S3SinkTuning,
} from './s3-object-sink.js'
