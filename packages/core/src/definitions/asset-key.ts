/**
 * Asset keys are path-like strings ("taxi/raw_trips"); users may also pass the segments.
 * Internally a key is always the joined string.
 */
export type AssetKeyInput = string | readonly string[];

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export function normalizeAssetKey(input: AssetKeyInput): string {
  return typeof input === "string" ? input : input.join("/");
}

/** Returns why `key` is not a valid asset key, or undefined when it is valid. */
export function assetKeyProblem(key: string): string | undefined {
  if (key.length === 0) return "asset key is empty";
  for (const segment of key.split("/")) {
    if (!SEGMENT.test(segment)) {
      return (
        `invalid asset key "${key}": segment "${segment}" must start with a letter, digit or "_" ` +
        `and contain only letters, digits, "_", "-" and "." (segments are joined by "/")`
      );
    }
  }
  return undefined;
}

/** Check names: a plain identifier-like word. */
const CHECK_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
export function checkNameProblem(name: string): string | undefined {
  return CHECK_NAME.test(name)
    ? undefined
    : `invalid check name "${name}": use letters, digits, "_" and "-", starting with a letter or "_"`;
}
