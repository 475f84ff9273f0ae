/**
 * @module errors/catalogue
 * The one error catalogue of OpenCTS. Every error the API can answer with is listed here once, with
 * its stable internal code (`OCTS_ERR_*`), the `error_code` put in the CTS error body, the HTTP
 * status and the default message. `docs/errors.md` documents every entry; a test keeps both in sync.
 *
 * CTS codes (`CTS.xxxx`) are used verbatim where the Cloud Trace Service defines one
 * (spec/cts-api.md §8); OpenCTS-only failures use `OCTS.xxxx` body codes.
 */

export interface CatalogueEntry {
  /** Body `error_code`: `CTS.xxxx` (CTS-defined) or `OCTS.xxxx` (OpenCTS extension). */
  readonly errorCode: string
  readonly httpStatus: number
  readonly message: string
}

export const ERROR_CATALOGUE = {
  // ---- CTS-defined codes (spec §8) ----
  OCTS_ERR_IAM_OBS_ABNORMAL: {
    errorCode: 'CTS.0001',
    httpStatus: 400,
    message: 'The IAM or OBS service is abnormal.',
  },
  OCTS_ERR_INVALID_BODY: {
    errorCode: 'CTS.0003',
    httpStatus: 400,
    message: 'The message body is empty or invalid.',
  },
  OCTS_ERR_TRACKER_QUOTA: {
    errorCode: 'CTS.0200',
    httpStatus: 400,
    message: 'The number of trackers has reached the upper limit.',
  },
  OCTS_ERR_SYSTEM_TRACKER_EXISTS: {
    errorCode: 'CTS.0201',
    httpStatus: 400,
    message: 'A management tracker has been created.',
  },
  OCTS_ERR_TRACKER_TYPE: {
    errorCode: 'CTS.0202',
    httpStatus: 400,
    message: 'The value of the tracker_type parameter is incorrect.',
  },
  OCTS_ERR_TRACKER_NAME_FORMAT: {
    errorCode: 'CTS.0203',
    httpStatus: 400,
    message: 'The value of tracker_name parameter is in an incorrect format.',
  },
  OCTS_ERR_SYSTEM_TRACKER_NAME: {
    errorCode: 'CTS.0204',
    httpStatus: 400,
    message: 'The tracker_name parameter of a management tracker can only be set to system.',
  },
  OCTS_ERR_TRACKER_STATUS: {
    errorCode: 'CTS.0205',
    httpStatus: 400,
    message: 'The status parameter can only be set to enabled or disabled.',
  },
  OCTS_ERR_SYSTEM_TRACKER_DATA_BUCKET: {
    errorCode: 'CTS.0206',
    httpStatus: 400,
    message:
      'The data_bucket parameter cannot be included in the message body for a management tracker.',
  },
  OCTS_ERR_DATA_TRACKER_NAME_SYSTEM: {
    errorCode: 'CTS.0207',
    httpStatus: 400,
    message:
      'The tracker_name parameter in the message body cannot be set to system for a data tracker.',
  },
  OCTS_ERR_TRACKER_EXISTS: {
    errorCode: 'CTS.0208',
    httpStatus: 400,
    message: 'The tracker already exists.',
  },
  OCTS_ERR_DATA_BUCKET_TRACKED: {
    errorCode: 'CTS.0209',
    httpStatus: 400,
    message: 'A type of operations on an OBS bucket can be tracked by only one tracker.',
  },
  OCTS_ERR_DATA_BUCKET_EMPTY: {
    errorCode: 'CTS.0210',
    httpStatus: 400,
    message: 'The OBS bucket to track cannot be empty.',
  },
  OCTS_ERR_DATA_BUCKET_NOT_FOUND: {
    errorCode: 'CTS.0211',
    httpStatus: 400,
    message: 'The tracked OBS bucket does not exist.',
  },
  OCTS_ERR_DATA_BUCKET_IMMUTABLE: {
    errorCode: 'CTS.0212',
    httpStatus: 400,
    message: 'The tracked OBS bucket cannot be modified.',
  },
  OCTS_ERR_TRANSFER_BUCKET_TRACKED: {
    errorCode: 'CTS.0213',
    httpStatus: 400,
    message: 'The OBS bucket used for trace transfer cannot be a tracked OBS bucket.',
  },
  OCTS_ERR_TRACKER_NOT_FOUND: {
    errorCode: 'CTS.0214',
    httpStatus: 404,
    message: 'The tracker does not exist.',
  },
  OCTS_ERR_BUCKET_EXISTS: {
    errorCode: 'CTS.0215',
    httpStatus: 400,
    message: 'The OBS bucket already exists.',
  },
  OCTS_ERR_BUCKET_CREATE_FAILED: {
    errorCode: 'CTS.0216',
    httpStatus: 400,
    message: 'Failed to create a bucket.',
  },
  OCTS_ERR_BUCKET_LIFECYCLE: {
    errorCode: 'CTS.0217',
    httpStatus: 400,
    message: 'Failed to set a lifecycle rule for the OBS bucket.',
  },
  OCTS_ERR_FILE_PREFIX_FORMAT: {
    errorCode: 'CTS.0218',
    httpStatus: 400,
    message: 'The value of file_prefix_name is in an incorrect format.',
  },
  OCTS_ERR_DATA_EVENT_EMPTY: {
    errorCode: 'CTS.0219',
    httpStatus: 400,
    message: 'The operation type cannot be empty.',
  },
  OCTS_ERR_KMS_UNSUPPORTED: {
    errorCode: 'CTS.0220',
    httpStatus: 400,
    message: 'KMS is not supported.',
  },
  OCTS_ERR_KMS_ID_EMPTY: {
    errorCode: 'CTS.0221',
    httpStatus: 400,
    message: 'The KMS ID is empty.',
  },
  OCTS_ERR_KMS_VERIFICATION: {
    errorCode: 'CTS.0222',
    httpStatus: 400,
    message: 'KMS verification failed.',
  },
  OCTS_ERR_DATA_EVENT_INVALID: {
    errorCode: 'CTS.0225',
    httpStatus: 400,
    message: 'Only WRITE and/or READ operations on the OBS bucket can be tracked.',
  },
  OCTS_ERR_ORG_NOT_TRUSTED: {
    errorCode: 'CTS.0228',
    httpStatus: 400,
    message: 'The CTS service is not trusted.',
  },
  OCTS_ERR_ORG_TRACKER_EXISTS: {
    errorCode: 'CTS.0229',
    httpStatus: 400,
    message: 'The organization tracker already exists.',
  },
  OCTS_ERR_BUCKET_NAME: {
    errorCode: 'CTS.0231',
    httpStatus: 400,
    message:
      'Invalid bucket name. A bucket name must be a string of 3 to 63 characters, including only lowercase letters, digits, hyphens (-), or periods (.). It must start with a digit or a lowercase letter.',
  },
  OCTS_ERR_QUERY: { errorCode: 'CTS.0300', httpStatus: 400, message: 'Query failed.' },
  OCTS_ERR_NOTIFICATION_EXISTS: {
    errorCode: 'CTS.0400',
    httpStatus: 400,
    message: 'NotificationV3 name is existed already.',
  },
  OCTS_ERR_FORBIDDEN: {
    errorCode: 'CTS.0013',
    httpStatus: 403,
    message: 'No permission, Please check roles.',
  },
  OCTS_ERR_VERSION_NOT_FOUND: {
    errorCode: 'CTS.0100',
    httpStatus: 404,
    message: 'API version query is not supported in CTS.',
  },
  OCTS_ERR_WRITE_FAILED: {
    errorCode: 'CTS.0004',
    httpStatus: 500,
    message: 'Failed to write data.',
  },
  OCTS_ERR_READ_FAILED: { errorCode: 'CTS.0005', httpStatus: 500, message: 'Failed to read data.' },

  // ---- OpenCTS extensions in the CTS numbering space, where CTS publishes no code ----
  OCTS_ERR_NOTIFICATION_NOT_FOUND: {
    errorCode: 'CTS.0401',
    httpStatus: 404,
    message: 'The notification does not exist.',
  },
  OCTS_ERR_NOTIFICATION_QUOTA: {
    errorCode: 'CTS.0402',
    httpStatus: 400,
    message: 'The number of key event notifications has reached the upper limit.',
  },
  OCTS_ERR_NOTIFICATION_INVALID: {
    errorCode: 'CTS.0403',
    httpStatus: 400,
    message: 'The notification parameters are invalid.',
  },

  // ---- OpenCTS codes ----
  OCTS_ERR_TRACE_INVALID: {
    errorCode: 'CTS.0003',
    httpStatus: 400,
    message: 'A trace in the batch is invalid.',
  },
  OCTS_ERR_BATCH_TOO_LARGE: {
    errorCode: 'OCTS.0101',
    httpStatus: 413,
    message: 'The batch exceeds 1,000 traces or 12 MB.',
  },
  OCTS_ERR_UNSUPPORTED_MEDIA_TYPE: {
    errorCode: 'OCTS.0102',
    httpStatus: 415,
    message: 'The request body must be application/json.',
  },
  OCTS_ERR_HEADERS_TOO_LARGE: {
    errorCode: 'OCTS.0103',
    httpStatus: 431,
    message: 'The request line and headers exceed 16 KB.',
  },
  OCTS_ERR_REQUEST_TIMEOUT: {
    errorCode: 'OCTS.0104',
    httpStatus: 408,
    message: 'The request was not received in time.',
  },
  OCTS_ERR_MALFORMED_REQUEST: {
    errorCode: 'OCTS.0105',
    httpStatus: 400,
    message: 'The request is not valid HTTP/1.1.',
  },
  OCTS_ERR_EXPECTATION_FAILED: {
    errorCode: 'OCTS.0106',
    httpStatus: 417,
    message: 'Only the Expect value 100-continue is supported.',
  },
  OCTS_ERR_TAG_INVALID: {
    errorCode: 'OCTS.0110',
    httpStatus: 400,
    message: 'The tag parameters are invalid.',
  },
  OCTS_ERR_RESOURCE_TYPE: {
    errorCode: 'OCTS.0111',
    httpStatus: 400,
    message: 'The resource_type path parameter can only be cts-tracker.',
  },
  OCTS_ERR_PROJECT_ID: {
    errorCode: 'OCTS.0112',
    httpStatus: 400,
    message: 'The project_id path parameter is invalid.',
  },
  OCTS_ERR_BAD_URL: {
    errorCode: 'OCTS.0400',
    httpStatus: 400,
    message: 'The request URL is not valid (bad percent-encoding).',
  },
  OCTS_ERR_ROUTE_NOT_FOUND: {
    errorCode: 'OCTS.0404',
    httpStatus: 404,
    message: 'The requested API does not exist.',
  },
  OCTS_ERR_METHOD_NOT_ALLOWED: {
    errorCode: 'OCTS.0405',
    httpStatus: 405,
    message: 'The method is not allowed for this API.',
  },
  OCTS_ERR_CONFLICT: {
    errorCode: 'OCTS.0409',
    httpStatus: 409,
    message: 'The resource was changed concurrently; retry the request.',
  },
  OCTS_ERR_STORE_CONFLICT: {
    errorCode: 'OCTS.0503',
    httpStatus: 503,
    message: 'The store is busy; retry the request.',
  },
  OCTS_ERR_PUSHBACK: {
    errorCode: 'OCTS.0504',
    httpStatus: 503,
    message: 'The server is overloaded; retry the request later.',
  },
  OCTS_ERR_STORAGE_FULL: {
    errorCode: 'OCTS.0505',
    httpStatus: 503,
    message: 'The disk of the store is full: nothing was stored; retry the request later.',
  },
  OCTS_ERR_OBJECT_STORE_FULL: {
    errorCode: 'OCTS.0506',
    httpStatus: 503,
    message: 'The object folder is out of disk space; retry later.',
  },
  OCTS_ERR_STORE_UNAVAILABLE: {
    errorCode: 'OCTS.0507',
    httpStatus: 503,
    message: 'The database of the store cannot be reached; retry the request later.',
  },
  OCTS_ERR_STORE_SCHEMA: {
    errorCode: 'OCTS.0125',
    httpStatus: 500,
    message: 'The database schema is not one this OpenCTS can use.',
  },
  OCTS_ERR_DATA_DIR_IN_USE: {
    errorCode: 'OCTS.0124',
    httpStatus: 409,
    message: 'The data directory is in use by another OpenCTS server.',
  },
  // ---- Authentication and identity (gateway and IAM codes where those services define one) ----
  OCTS_ERR_UNAUTHENTICATED: {
    errorCode: 'APIG.0301',
    httpStatus: 401,
    message: 'Incorrect IAM authentication information.',
  },
  OCTS_ERR_SIGN_IN_FAILED: {
    errorCode: 'IAM.0062',
    httpStatus: 401,
    message: 'Incorrect user name or password.',
  },
  OCTS_ERR_AUTH_THROTTLED: {
    errorCode: 'APIG.0308',
    httpStatus: 429,
    message: 'The throttling threshold has been reached: too many failed authentications.',
  },
  OCTS_ERR_SUBJECT_TOKEN: {
    errorCode: 'OCTS.0120',
    httpStatus: 404,
    message: 'The subject token is invalid, expired or not yours.',
  },
  OCTS_ERR_IDENTITY_EXISTS: {
    errorCode: 'OCTS.0121',
    httpStatus: 409,
    message: 'An account, project, user or access key with this name or id already exists.',
  },
  OCTS_ERR_IDENTITY_NOT_FOUND: {
    errorCode: 'OCTS.0122',
    httpStatus: 404,
    message: 'The account, project, user, policy or access key does not exist.',
  },
  OCTS_ERR_IDENTITY_INVALID: {
    errorCode: 'OCTS.0123',
    httpStatus: 400,
    message: 'The identity parameters are invalid.',
  },
  // ---- Object storage, transfer and keys ----
  OCTS_ERR_NO_BUCKET: {
    errorCode: 'OCTS.0130',
    httpStatus: 404,
    message: 'The bucket does not exist.',
  },
  OCTS_ERR_BUCKET_DENIED: {
    errorCode: 'OCTS.0131',
    httpStatus: 403,
    message: 'The object store denied access to the bucket.',
  },
  OCTS_ERR_OBJECT_STORE_UNAVAILABLE: {
    errorCode: 'OCTS.0132',
    httpStatus: 503,
    message: 'The object store is unavailable; retry later.',
  },
  OCTS_ERR_KEY_NOT_FOUND: {
    errorCode: 'OCTS.0140',
    httpStatus: 404,
    message: 'The key does not exist.',
  },
  OCTS_ERR_KEY_EXISTS: {
    errorCode: 'OCTS.0141',
    httpStatus: 409,
    message: 'A key with this name already exists.',
  },
  OCTS_ERR_KEY_INVALID: {
    errorCode: 'OCTS.0142',
    httpStatus: 400,
    message: 'The key parameters are invalid.',
  },
  OCTS_ERR_DECRYPT_FAILED: {
    errorCode: 'OCTS.0143',
    httpStatus: 400,
    message: 'The data cannot be decrypted: wrong key, unknown format or altered data.',
  },
  // ---- Notification delivery ----
  OCTS_ERR_TOPIC_INVALID: {
    errorCode: 'OCTS.0150',
    httpStatus: 400,
    message: 'The topic, subscription or function parameters are invalid.',
  },
  OCTS_ERR_TOPIC_EXISTS: {
    errorCode: 'OCTS.0151',
    httpStatus: 409,
    message: 'A topic with this name already exists.',
  },
  OCTS_ERR_TOPIC_NOT_FOUND: {
    errorCode: 'OCTS.0152',
    httpStatus: 404,
    message: 'The topic, subscription or function does not exist.',
  },
  OCTS_ERR_DELIVERY_NOT_FOUND: {
    errorCode: 'OCTS.0153',
    httpStatus: 404,
    message: 'The delivery does not exist.',
  },
  // ---- Alarms ----
  OCTS_ERR_ALARM_INVALID: {
    errorCode: 'OCTS.0170',
    httpStatus: 400,
    message: 'The alarm rule parameters are invalid.',
  },
  OCTS_ERR_ALARM_EXISTS: {
    errorCode: 'OCTS.0171',
    httpStatus: 409,
    message: 'An alarm rule with this name already exists.',
  },
  OCTS_ERR_ALARM_NOT_FOUND: {
    errorCode: 'OCTS.0172',
    httpStatus: 404,
    message: 'The alarm rule does not exist.',
  },
  OCTS_ERR_ALARM_QUOTA: {
    errorCode: 'OCTS.0173',
    httpStatus: 400,
    message: 'The number of alarm rules has reached the upper limit.',
  },
  // ---- Verifiable log ----
  OCTS_ERR_LOG_OFF: {
    errorCode: 'OCTS.0160',
    httpStatus: 404,
    message: 'The verifiable log is turned off on this server.',
  },
  OCTS_ERR_CHECKPOINT_NOT_FOUND: {
    errorCode: 'OCTS.0161',
    httpStatus: 404,
    message: 'The checkpoint does not exist.',
  },
  OCTS_ERR_LEAF_NOT_FOUND: {
    errorCode: 'OCTS.0162',
    httpStatus: 404,
    message: 'The trace is not in the log at this tree size.',
  },
  OCTS_ERR_PROOF_INVALID: {
    errorCode: 'OCTS.0163',
    httpStatus: 400,
    message: 'The proof parameters are invalid.',
  },
  // ---- Recorder (answered by the proxy of `opencts record`, not by the API) ----
  OCTS_ERR_UPSTREAM_UNAVAILABLE: {
    errorCode: 'OCTS.0502',
    httpStatus: 502,
    message: 'The recorded API cannot be reached.',
  },
  OCTS_ERR_INTERNAL: { errorCode: 'OCTS.0500', httpStatus: 500, message: 'Internal error.' },
} as const satisfies Record<string, CatalogueEntry>

export type ErrorCode = keyof typeof ERROR_CATALOGUE
