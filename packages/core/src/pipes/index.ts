export { type PipesCheckOptions, pipesCheck, pipesCheckMetadataKey } from "./pipes-check.js";
export {
  PIPES_STDOUT_PREFIX,
  type PipesCheckReport,
  type PipesContextPayload,
  type PipesContextSource,
  type PipesOptions,
  PipesProcessError,
  type PipesResult,
  pipesContextPayload,
  pipesHelperPath,
  runPipes,
} from "./run-pipes.js";
