export * from './types.js';
export { openLake, type LakeOptions } from './open-lake.js';
export { FsLake, type FsLakeOptions } from './fs-lake.js';
export { S3Lake, type S3LakeOptions } from './s3-lake.js';
export { parseLakeUrl, type LakeLocation } from './lake-url.js';
export { ObjectStore, MULTIPART_PART_BYTES, MULTIPART_QUEUE, type S3Options } from './object-store.js';
export { LakeSettingsError } from './s3-errors.js';
export { CLAIM_FILE, IN_FLIGHT_DIR, isProtocolObject, KEPT_DIR, QUARANTINE_DIR as S3_QUARANTINE_DIR } from './s3-layout.js';
export { KEPT_FILE } from './kept-staging.js';
export {
  SOURCE_NAME_RE,
  RUN_ID_RE,
  MAX_FILE_NAME_LENGTH,
  checkSourceName,
  checkDate,
  checkRunId,
  checkFileName,
  checkVersion,
  fileNameProblem,
} from './names.js';
export {
  MANIFEST_FILE,
  MANIFEST_SHA256_FILE,
  REASON_FILE,
  rawRoot,
  stagingRoot,
  partitionPath,
  versionPath,
  quarantinePath,
  resolveInside,
} from './layout.js';
export { manifestSchema, manifestJsonSchema, parseManifest, sameContent, PROVENANCE_FILES } from './manifest.js';
export { CorruptVersionError } from './lake-errors.js';
export { SYNC_WRITE_MAX_BYTES, LAKE_FILE_MODE, LAKE_FOLDER_MODE, nodeFileSystem, type LakeFileSystem, type WriteHandle } from './file-system.js';
export { hashFile } from './verify.js';
export { defaultCodeVersion } from './code-version.js';
export { currentVersions, type CurrentFile, type CurrentPartition } from './current-versions.js';
export { lakeFreshness, sourceFreshness, type SourceFreshness } from './freshness.js';
export { continueFile, drained } from './continue-file.js';
export {
  PAGES_INDEX_FILE,
  segmentFileName,
  segmentNumberOf,
  looseFileName,
  loosePageOf,
  pageIndexLine,
  indexedPageUrl,
  resolvePageUrl,
  parsePageIndexLine,
  keptPagesOf,
  keptSegmentPages,
  checkSegmentedPages,
  readSnapshotPages,
  SegmentedPagesWriter,
  type PageIndexEntry,
  type PageToStore,
  type KeptPages,
  type SnapshotPage,
  type SegmentedPagesProblem,
  type HashedFile,
} from './segmented-pages.js';
export { ThreadedSha256, stopSha256Thread, THREADED_SHA256_MIN_BYTES, THREADED_SHA256_RING_BYTES } from './threaded-sha256.js';
