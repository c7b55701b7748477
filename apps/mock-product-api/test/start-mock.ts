import { afterEach } from 'vitest';
import { startMockProductApi, type MockApiHandle, type MockApiInput } from '@recomart/mock-product-api';

const open: MockApiHandle[] = [];

/** Closes every mock a test started, after each test. Call once at the top of a test file. */
export function closeMocksAfterEach(): void {
  afterEach(async () => {
    await Promise.all(open.splice(0).map((api) => api.close()));
  });
}

/** A 25-product mock on a free port (overridable), closed after the test. */
export async function start(input: MockApiInput = {}): Promise<MockApiHandle> {
  const api = await startMockProductApi({ port: 0, products: 25, ...input });
  open.push(api);
  return api;
}
