import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { ObjectStore, type S3Options } from '@recomart/lake';

/**
 * The S3 server of the integration tests: `scripts/ceph-s3.sh start` (CI's
 * `.ci/run` starts it). Tests that need it FAIL when it is not there.
 *
 *   TEST_S3_ENDPOINT    default http://127.0.0.1:7480
 *   TEST_S3_ACCESS_KEY  default recomart-test
 *   TEST_S3_SECRET_KEY  default recomart-test-secret
 */
export interface TestS3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function testS3Server(): TestS3Server {
  return {
    endpoint: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:7480',
    accessKeyId: process.env.TEST_S3_ACCESS_KEY ?? 'recomart-test',
    secretAccessKey: process.env.TEST_S3_SECRET_KEY ?? 'recomart-test-secret',
  };
}

/** A private bucket for one test file, emptied and removed by `remove()`. */
export interface TestBucket {
  bucket: string;
  server: TestS3Server;
  /** Options for `openLake({ s3 })` / `new ObjectStore`. */
  s3: S3Options;
  /** `LAKE_URL` of a lake under `prefix` in this bucket. */
  lakeUrl(prefix?: string): string;
  /** The environment a spawned worker or CLI needs to use this bucket. */
  env(prefix?: string): Record<string, string>;
  store: ObjectStore;
  remove(): Promise<void>;
}

export function testS3Options(server: TestS3Server = testS3Server()): S3Options {
  return {
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxAttempts: 3,
  };
}

/**
 * Creates a fresh bucket. Throws (so the test fails, never skips) when the
 * S3 server does not answer, saying how to start it.
 */
export async function createTestBucket(name: string): Promise<TestBucket> {
  const server = testS3Server();
  const s3 = testS3Options(server);
  const bucket = `t-${name}-${randomBytes(4).toString('hex')}`.toLowerCase().slice(0, 63);
  // The lake's own client (it keeps the SDK's Node-version notice off stderr).
  const store = new ObjectStore(bucket, s3);
  try {
    await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    store.destroy();
    throw new Error(`no S3 server usable at ${server.endpoint} (${err instanceof Error ? err.message : String(err)}): start one with "scripts/ceph-s3.sh start" (npm test does, through scripts/test-services.sh)`);
  }
  const env = (prefix = 'lake'): Record<string, string> => ({
    LAKE_URL: `s3://${bucket}/${prefix}`,
    S3_ENDPOINT: server.endpoint,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
  });
  return {
    bucket,
    server,
    s3,
    store,
    lakeUrl: (prefix = 'lake') => `s3://${bucket}/${prefix}`,
    env,
    async remove() {
      for (const u of await store.listPendingUploads('')) await store.abortUpload(u);
      await store.deleteKeys((await store.listObjects('')).map((o) => o.key));
      await store.client.send(new DeleteBucketCommand({ Bucket: bucket }));
      store.destroy();
    },
  };
}
