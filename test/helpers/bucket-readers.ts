/**
 * Independent readers of what transfer wrote into a bucket, for tests: `node:fs` over a local
 * object folder, and the AWS SDK's own S3Client over an S3 server. Neither goes through the
 * ObjectSink under test.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import type { S3Server } from './s3-server.js'

/** An object as stored: its bytes and its user metadata. */
export interface StoredObject {
  readonly body: Buffer
  readonly metadata: Record<string, string>
}

export interface BucketReader {
  /** Every key of the bucket starting with `prefix`, sorted. */
  keys(bucket: string, prefix: string): Promise<string[]>
  read(bucket: string, key: string): Promise<StoredObject>
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

/** Reads a local object folder (`root/BUCKET/KEY`, metadata in `root/.metadata/`) with node:fs. */
export function folderReader(root: string): BucketReader {
  return {
    keys: (bucket, prefix) =>
      Promise.resolve(
        walk(join(root, bucket))
          .map((p) => relative(join(root, bucket), p))
          .filter((k) => k.startsWith(prefix))
          .sort(),
      ),
    read: (bucket, key) => {
      let metadata: Record<string, string>
      try {
        metadata = JSON.parse(
          readFileSync(join(root, '.metadata', bucket, `${key}.json`), 'utf8'),
        ) as Record<string, string>
      } catch {
        metadata = {}
      }
      return Promise.resolve({ body: readFileSync(join(root, bucket, key)), metadata })
    },
  }
}

/** Reads an S3 server with the AWS SDK; `close` destroys the client. */
export function s3Reader(server: S3Server): BucketReader & { close(): void } {
  const client = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  return {
    async keys(bucket, prefix) {
      const keys: string[] = []
      let token: string | undefined
      for (let page = 0; page < 100; page++) {
        const out = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        )
        keys.push(...(out.Contents ?? []).map((c) => c.Key ?? ''))
        token = out.NextContinuationToken
        if (token === undefined) break
      }
      return keys.sort()
    },
    async read(bucket, key) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      const body = Buffer.from(await (out.Body?.transformToByteArray() ?? new Uint8Array()))
      return { body, metadata: out.Metadata ?? {} }
    },
    close: () => client.destroy(),
  }
}
