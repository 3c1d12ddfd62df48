import type { AssetDetail, CreateBackfillBody, LaunchRunBody } from "@baton/webserver/api-types";
import * as Dialog from "@radix-ui/react-dialog";
import { type FormEvent, useEffect, useId, useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";
import { isApiError } from "../../api/client";
import {
  useAssetGraph,
  useCreateBackfill,
  useLaunchRun,
  usePartitionKeys,
  usePartitionStatus,
} from "../../api/queries";
import { usePermission } from "../../app/Auth";
import { ErrorBox } from "../../components/ErrorBox";
import { useToast } from "../../components/Toasts";
import { ConfigFields, type ConfigStep } from "./ConfigForm";
import { configToValues, defaultValues, type FormValues, schemaToForm, valuesToConfig } from "./config-form";
import {
  configIssues,
  type DimensionInfo,
  launchSummary,
  launchTarget,
  type PickerState,
  partitionCount,
  placeApiError,
  selectionOf,
  tagsOf,
} from "./launch-request";
import { type PartitionErrors, PartitionPicker } from "./PartitionPicker";
import { describeSpec, sameSpec } from "./partitions-spec";
import { useAssetDetails } from "./use-asset-details";
import "./launch.css";

export type InitialPartitions =
  | { readonly which: "all" | "missing" | "failed" | "stale" }
  | { readonly keys: readonly string[] };

export interface LaunchDialogProps {
  readonly open: boolean;
  onOpenChange(open: boolean): void;
  /** The assets to materialize (a selection of keys). */
  readonly assetKeys: readonly string[];
  /** Preselected partitions for partitioned assets (e.g. missing ones for "Materialize stale/missing"). */
  readonly initialPartitions?: InitialPartitions;
  /** After launching: go to the run/backfill page ("navigate", default) or stay and show a toast ("stay"). */
  readonly afterLaunch?: "navigate" | "stay";
}

/**
 * The launch dialog: the chosen assets, a partition picker when they are partitioned, a config form
 * generated from each asset's JSON Schema (or raw JSON), tags, a summary, then "Launch run" (POST
 * /api/runs) or "Launch backfill" (POST /api/backfills). A 400 names the field it is about; the
 * message is shown next to that control and the dialog stays open.
 */
export function LaunchDialog(props: LaunchDialogProps) {
  const n = props.assetKeys.length;
  return (
    <Dialog.Root open={props.open} onOpenChange={props.onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content
          className="dialog launch-dialog"
          onEscapeKeyDown={(e) => {
            // Escape in a key search with its list open closes the list, not the dialog.
            const el = document.activeElement;
            if (el?.getAttribute("role") === "combobox" && el.getAttribute("aria-expanded") === "true")
              e.preventDefault();
          }}
        >
          <div className="launch-head">
            <Dialog.Title>
              {n === 1 ? "Materialize" : `Materialize ${n.toLocaleString("en")} assets`}
            </Dialog.Title>
            <Dialog.Close asChild>
              <button type="button" className="ghost small" aria-label="Close">
                ✕
              </button>
            </Dialog.Close>
          </div>
          <Dialog.Description className="muted">
            Choose what to launch; the run is queued for a worker.
          </Dialog.Description>
          {props.open && <LaunchForm key={props.assetKeys.join("\n")} {...props} />}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

interface ServerErrors {
  readonly top?: string;
  readonly config?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly configJson?: string;
  readonly partitions?: PartitionErrors;
  readonly tags?: string;
}

function initialPicker(
  initial: InitialPartitions | undefined,
  multi: boolean,
  dims: readonly DimensionInfo[] | null,
  dimKinds: readonly string[],
): PickerState {
  if (initial && "which" in initial) return { mode: "which", which: initial.which };
  if (initial && initial.keys.length === 1) return { mode: "one", key: { key: initial.keys[0]! } };
  if (initial && initial.keys.length > 1) return { mode: "keys", keys: [...initial.keys] };
  if (multi && dims)
    return {
      mode: "dimensions",
      picks: dims.map((d, i) =>
        dimKinds[i] === "time"
          ? { kind: "range", from: null, to: null }
          : { kind: "list", keys: [...d.keys] },
      ),
    };
  return { mode: "one", key: null };
}

function LaunchForm(props: LaunchDialogProps) {
  const { assetKeys, afterLaunch = "navigate" } = props;
  const ids = useId();
  const navigate = useNavigate();
  const toast = useToast();
  const launcher = usePermission("launcher");
  const graph = useAssetGraph();
  const { details, pending, errors: detailErrors } = useAssetDetails(assetKeys);
  const launchRun = useLaunchRun();
  const createBackfill = useCreateBackfill();

  // Upstream first: the backfill anchors its partitions on the most upstream partitioned asset.
  const order = useMemo(() => {
    const m = new Map<string, number>();
    for (const [i, a] of (graph.data?.assets ?? []).entries()) m.set(a.key, i);
    return m;
  }, [graph.data]);
  const loaded = useMemo(() => details.filter((d): d is AssetDetail => d !== undefined), [details]);
  const partitioned = loaded
    .filter((d) => d.definition.partitions)
    .sort((a, b) => (order.get(a.definition.key) ?? 0) - (order.get(b.definition.key) ?? 0));
  const anchor = partitioned[0];
  const anchorKey = anchor?.definition.key ?? "";
  const spec = anchor?.definition.partitions ?? null;
  const differing = partitioned.filter((d) => !sameSpec(d.definition.partitions, spec));
  const unpartitioned = anchor ? loaded.filter((d) => !d.definition.partitions) : [];
  const mixed = differing.length > 0 || unpartitioned.length > 0;
  const multi = spec?.kind === "multi";

  const status = usePartitionStatus(anchorKey, anchor !== undefined);
  const dimsQuery = usePartitionKeys(anchorKey, "", 0, 1, multi);
  const dims: DimensionInfo[] | null = useMemo(
    () => (multi ? (dimsQuery.data?.dimensions?.map((d) => ({ name: d.name, keys: d.keys })) ?? null) : []),
    [multi, dimsQuery.data],
  );
  const dimKinds = useMemo(
    () => (spec?.kind === "multi" ? spec.dimensions.map((d) => d.spec.kind) : []),
    [spec],
  );

  const [picker, setPicker] = useState<PickerState | null>(null);
  useEffect(() => {
    if (picker === null && spec && !pending && (!multi || dims))
      setPicker(initialPicker(props.initialPartitions, multi, dims, dimKinds));
  }, [picker, spec, pending, multi, dims, dimKinds, props.initialPartitions]);

  // Config: one form per step taking config (a multi-asset's assets share one).
  const steps: ConfigStep[] = useMemo(() => {
    const byStep = new Map<string, ConfigStep>();
    for (const d of loaded) {
      const form = schemaToForm(d.definition.configSchema);
      if (!form) continue;
      const step = d.definition.computation.name;
      const prev = byStep.get(step);
      byStep.set(step, { step, form, assetKeys: [...(prev?.assetKeys ?? []), d.definition.key] });
    }
    return [...byStep.values()];
  }, [loaded]);
  const [values, setValues] = useState<Record<string, FormValues>>({});
  useEffect(() => {
    const missing = steps.filter((s) => !(s.step in values));
    if (missing.length > 0)
      setValues((v) => ({
        ...v,
        ...Object.fromEntries(missing.map((s) => [s.step, defaultValues(s.form)])),
      }));
  }, [steps, values]);
  const [jsonMode, setJsonMode] = useState(false);
  const [jsonText, setJsonText] = useState("");
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [tagRows, setTagRows] = useState<{ key: string; value: string }[]>([]);
  const [server, setServer] = useState<ServerErrors>({});

  const formConfig = useMemo(() => {
    const config: Record<string, unknown> = {};
    const errors: Record<string, Record<string, string>> = {};
    for (const s of steps) {
      const r = valuesToConfig(s.form, values[s.step] ?? {});
      if (r.value !== undefined) config[s.step] = r.value;
      if (Object.keys(r.errors).length > 0) errors[s.step] = r.errors;
    }
    return { config, errors };
  }, [steps, values]);
  const parsedJson = useMemo(() => {
    if (!jsonMode) return { ok: true as const, value: formConfig.config };
    try {
      const v = JSON.parse(jsonText || "{}");
      if (typeof v !== "object" || v === null || Array.isArray(v))
        return { ok: false as const, message: "The config must be a JSON object keyed by asset key." };
      return { ok: true as const, value: v as Record<string, unknown> };
    } catch (error) {
      return { ok: false as const, message: (error as Error).message };
    }
  }, [jsonMode, jsonText, formConfig.config]);

  const toggleJson = () => {
    if (!jsonMode) {
      setJsonText(JSON.stringify(formConfig.config, null, 2));
      setJsonError(null);
      setJsonMode(true);
      return;
    }
    if (!parsedJson.ok) {
      setJsonError(`Fix the JSON before going back to the form: ${parsedJson.message}`);
      return;
    }
    setValues(
      Object.fromEntries(steps.map((s) => [s.step, configToValues(s.form, parsedJson.value[s.step])])),
    );
    setJsonError(null);
    setJsonMode(false);
  };

  const { tags, errors: tagErrors } = tagsOf(tagRows);
  const target = launchTarget(anchor !== undefined, picker, dims ?? [], mixed);
  const counts = status.data?.counts;
  const count = partitionCount(picker, dims ?? [], {
    total: status.data?.total,
    missing: counts?.missing,
    failed: counts?.failed,
  });
  // The button names what will be launched, also while the picker is still incomplete.
  const willBackfill = target.ok
    ? target.endpoint === "backfill"
    : mixed || picker?.mode === "range" || picker?.mode === "which" || picker?.mode === "keys";
  const busy = launchRun.isPending || createBackfill.isPending;
  const configInvalid = jsonMode ? !parsedJson.ok : Object.keys(formConfig.errors).length > 0;
  const blocked: string | undefined = !launcher.allowed
    ? launcher.reason
    : pending
      ? "Loading the assets…"
      : detailErrors.length > 0
        ? "Some assets could not be loaded."
        : !target.ok
          ? target.reason
          : configInvalid
            ? jsonMode
              ? "The config is not valid JSON."
              : "Fix the config fields marked above."
            : Object.keys(tagErrors).length > 0
              ? "Fix the tags marked above."
              : busy
                ? "Launching…"
                : undefined;
  const summary = launchSummary(
    target,
    assetKeys.length,
    count,
    picker?.mode === "which" ? picker.which : undefined,
    mixed,
  );

  const edit = () => server !== EMPTY && setServer(EMPTY);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (blocked || !target.ok || !parsedJson.ok) return;
    setServer(EMPTY);
    const config = parsedJson.value;
    const common = {
      selection: selectionOf(assetKeys),
      ...(Object.keys(config).length > 0 ? { config } : {}),
      ...(Object.keys(tags).length > 0 ? { tags } : {}),
    };
    try {
      if (target.endpoint === "run") {
        const body: LaunchRunBody = {
          ...common,
          ...(target.partitions ? { partitions: target.partitions } : {}),
        };
        const { run } = await launchRun.mutateAsync(body);
        done("run", run.runId);
      } else {
        const body: CreateBackfillBody = { ...common, partitions: target.partitions };
        const { backfill } = await createBackfill.mutateAsync(body);
        done("backfill", backfill.backfillId);
      }
    } catch (error) {
      setServer(serverErrorsOf(error, steps, jsonMode));
    }
  };
  const done = (kind: "run" | "backfill", id: string) => {
    const path = kind === "run" ? `/runs/${id}` : `/backfills/${id}`;
    props.onOpenChange(false);
    if (afterLaunch === "navigate") navigate(path);
    else
      toast(
        <>
          <span>
            {kind === "run" ? "Run" : "Backfill"} {id.slice(0, 8)} {kind === "run" ? "queued" : "created"}
          </span>
          <Link to={path}>View {kind}</Link>
        </>,
      );
  };

  const blockedId = `${ids}-blocked`;
  return (
    <form className="launch-form" onSubmit={onSubmit} onChange={edit} noValidate>
      {server.top && <ErrorBox error={server.top} title="Not launched" />}
      {detailErrors.map((e) => (
        <ErrorBox key={e.index} error={e.error} title={`Could not load ${assetKeys[e.index]}`} />
      ))}

      <section aria-labelledby={`${ids}-assets`}>
        <h3 id={`${ids}-assets`}>
          {assetKeys.length === 1 ? "Asset" : `Assets (${assetKeys.length.toLocaleString("en")})`}
        </h3>
        <ul className="launch-assets">
          {assetKeys.map((key, i) => {
            const d = details[i]?.definition;
            return (
              <li key={key}>
                <span className="mono">{key}</span>
                {d && <span className="tag">{d.group}</span>}
                {detailErrors.some((e) => e.index === i) ? (
                  <span className="asset-load-error">could not be loaded</span>
                ) : (
                  <span className="muted small">
                    {d ? (d.partitions ? describeSpec(d.partitions) : "") : "…"}
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      </section>

      {anchor && mixed && (
        <div className="notice" role="note">
          <strong>These assets are not partitioned alike.</strong>{" "}
          {differing.length > 0 && (
            <>
              {differing.map((d) => d.definition.key).join(", ")} {differing.length === 1 ? "is" : "are"}{" "}
              partitioned differently from {anchorKey} ({describeSpec(spec)}).{" "}
            </>
          )}
          {unpartitioned.length > 0 && (
            <>
              {unpartitioned.map((d) => d.definition.key).join(", ")}{" "}
              {unpartitioned.length === 1 ? "is" : "are"} not partitioned.{" "}
            </>
          )}
          One run cannot cover them: this launches a backfill over partitions of {anchorKey} (the most
          upstream), mapped to the others, or materialize them separately.
        </div>
      )}

      {anchor && !picker && <p className="hint">Loading the partitions…</p>}
      {anchor && spec && picker && (
        <PartitionPicker
          assetKey={anchorKey}
          spec={spec}
          state={picker}
          onChange={setPicker}
          dims={multi ? dims : null}
          total={status.data?.total}
          counts={counts}
          errors={server.partitions ?? {}}
          allowKeysMode={props.initialPartitions !== undefined && "keys" in props.initialPartitions}
        />
      )}

      {steps.length > 0 && (
        <fieldset className="launch-config">
          <legend>Config</legend>
          <div className="row config-toolbar">
            <span className="hint">
              {jsonMode ? "The run config, keyed by asset." : "Generated from each asset's config schema."}
            </span>
            <button type="button" className="ghost small" onClick={toggleJson} aria-pressed={jsonMode}>
              {jsonMode ? "Edit as form" : "Edit as JSON"}
            </button>
          </div>
          {jsonMode ? (
            <div className="field">
              <label htmlFor={`${ids}-json`} className="sr-only">
                Run config as JSON
              </label>
              <textarea
                id={`${ids}-json`}
                rows={Math.min(16, Math.max(5, jsonText.split("\n").length + 1))}
                spellCheck={false}
                value={jsonText}
                onChange={(e) => {
                  setJsonText(e.target.value);
                  setJsonError(null);
                }}
                aria-invalid={!parsedJson.ok || server.configJson ? true : undefined}
                aria-describedby={`${ids}-json-error`}
              />
              <div id={`${ids}-json-error`} className="field-error" role="alert">
                {jsonError ??
                  (!parsedJson.ok ? `Not valid JSON: ${parsedJson.message}` : (server.configJson ?? ""))}
              </div>
            </div>
          ) : (
            steps.map((s) =>
              steps.length === 1 && assetKeys.length === 1 ? (
                <ConfigFields
                  key={s.step}
                  step={s}
                  values={values[s.step] ?? {}}
                  onChange={(v) => setValues((all) => ({ ...all, [s.step]: v }))}
                  errors={{ ...formConfig.errors[s.step], ...server.config?.[s.step] }}
                />
              ) : (
                <fieldset key={s.step} className="config-step">
                  <legend className="mono">{s.assetKeys.join(", ")}</legend>
                  <ConfigFields
                    step={s}
                    values={values[s.step] ?? {}}
                    onChange={(v) => setValues((all) => ({ ...all, [s.step]: v }))}
                    errors={{ ...formConfig.errors[s.step], ...server.config?.[s.step] }}
                  />
                </fieldset>
              ),
            )
          )}
        </fieldset>
      )}

      <fieldset className="launch-tags">
        <legend>Tags</legend>
        {tagRows.map((row, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their position
          <div className="tag-row" key={i}>
            <label className="sr-only" htmlFor={`${ids}-tk${i}`}>
              Tag {i + 1} key
            </label>
            <input
              id={`${ids}-tk${i}`}
              type="text"
              placeholder="key"
              value={row.key}
              aria-invalid={tagErrors[i] ? true : undefined}
              aria-describedby={tagErrors[i] ? `${ids}-te${i}` : undefined}
              onChange={(e) =>
                setTagRows((r) => r.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)))
              }
            />
            <span aria-hidden="true">=</span>
            <label className="sr-only" htmlFor={`${ids}-tv${i}`}>
              Tag {i + 1} value
            </label>
            <input
              id={`${ids}-tv${i}`}
              type="text"
              placeholder="value"
              value={row.value}
              onChange={(e) =>
                setTagRows((r) => r.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))
              }
            />
            <button
              type="button"
              className="ghost small"
              aria-label={`Remove tag ${i + 1}`}
              onClick={() => setTagRows((r) => r.filter((_, j) => j !== i))}
            >
              ✕
            </button>
            {tagErrors[i] && (
              <div id={`${ids}-te${i}`} className="field-error" role="alert">
                {tagErrors[i]}
              </div>
            )}
          </div>
        ))}
        {server.tags && (
          <div className="field-error" role="alert">
            {server.tags}
          </div>
        )}
        <button
          type="button"
          className="ghost small"
          onClick={() => setTagRows((r) => [...r, { key: "", value: "" }])}
        >
          + Add tag
        </button>
      </fieldset>

      <div className="launch-footer">
        <p className="launch-summary" aria-live="polite">
          {target.ok && !pending && detailErrors.length === 0 ? (
            <>
              Launches <strong>{summary}</strong>.
            </>
          ) : null}
        </p>
        {blocked && (
          <p id={blockedId} className="launch-blocked">
            {blocked}
          </p>
        )}
        <div className="dialog-actions">
          <Dialog.Close asChild>
            <button type="button">Cancel</button>
          </Dialog.Close>
          <button
            type="submit"
            className="primary"
            disabled={blocked !== undefined}
            aria-describedby={blocked ? blockedId : undefined}
            title={blocked}
          >
            {willBackfill ? "Launch backfill" : "Launch run"}
          </button>
        </div>
      </div>
    </form>
  );
}

const EMPTY: ServerErrors = {};

/** Where a failed launch's error goes: next to the field a 400 names, else at the top. */
function serverErrorsOf(error: unknown, steps: readonly ConfigStep[], jsonMode: boolean): ServerErrors {
  const message = error instanceof Error ? error.message : String(error);
  if (!isApiError(error) || error.status !== 400) return { top: message };
  const place = placeApiError(
    error.field,
    steps.map((s) => s.step),
  );
  switch (place.area) {
    case "config": {
      if (jsonMode) return { configJson: message };
      // The field the API names gets its message; the other issues it lists go next to their fields.
      const config: Record<string, Record<string, string>> = { [place.step]: { [place.path]: message } };
      const top: string[] = [];
      for (const issue of configIssues(message).slice(1)) {
        const p = placeApiError(
          `body.config.${issue.path}`,
          steps.map((s) => s.step),
        );
        if (p.area === "config") config[p.step] = { [p.path]: issue.message, ...config[p.step] };
        else top.push(`${issue.path || "config"}: ${issue.message}`);
      }
      return { config, ...(top.length > 0 ? { top: top.join("\n") } : {}) };
    }
    case "partitions":
      return { partitions: { [place.part]: message } };
    case "tags":
      return { tags: message };
    default:
      return { top: message };
  }
}
