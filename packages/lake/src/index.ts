export * from './types.js';
export { openLake, type LakeOptions } from './fs-lake.js';
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
export { manifestSchema, manifestJsonSchema, parseManifest, sameContent } from './manifest.js';
export { CorruptVersionError } from './lake-errors.js';
export { SYNC_WRITE_MAX_BYTES, LAKE_FILE_MODE, LAKE_FOLDER_MODE, nodeFileSystem, type LakeFileSystem, type WriteHandle } from './file-system.js';
export { hashFile } from './verify.js';
export { defaultCodeVersion } from './code-version.js';
export { currentVersions, type CurrentFile, type CurrentPartition } from './current-versions.js';
export { lakeFreshness, sourceFreshness, type SourceFreshness } from './freshness.js';
