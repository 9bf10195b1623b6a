// The environments file: the store that reads, validates, writes and watches it, and the checks a form can run
// before saving. No `vscode` here (DESIGN.md): the extension, the CLI and tests use the same code.
export { ConflictError, EnvStoreError, InvalidFileError, LockedError, NotFoundError, ValidationError, type EnvStoreErrorCode } from './errors';
export type { FileVersion } from '../files/fileVersion';
export { formatProblem, humanPath, type FileProblem, type Problem } from './problems';
export { readEnvironments, type EnvironmentsRead } from './readEnvironments';
export { EnvStore, type EnvStoreOptions, type LoadFailed, type LoadOk, type LoadResult, type SaveStep, type Watching } from './store';
export { validateDocument, validateEnvironment } from './validate';
