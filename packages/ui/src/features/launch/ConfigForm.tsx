import { useId } from "react";
import { type FormField, type FormValues, pathKey } from "./config-form";

/** One step's config (an asset, or a multi-asset shared by several selected assets). */
export interface ConfigStep {
  readonly step: string;
  readonly assetKeys: readonly string[];
  readonly form: FormField;
}

/** The form generated from a step's JSON Schema: one control per field, errors next to each. */
export function ConfigFields(props: {
  readonly step: ConfigStep;
  readonly values: FormValues;
  onChange(values: FormValues): void;
  readonly errors: Readonly<Record<string, string>>;
}) {
  const prefix = useId();
  const { form } = props.step;
  const set = (key: string, v: string | boolean) => props.onChange({ ...props.values, [key]: v });
  const fields = form.kind === "object" ? form.fields : [form];
  if (fields.length === 0) return <p className="hint">This config takes no fields.</p>;
  return (
    <>
      {props.errors[""] && (
        <div className="field-error" role="alert">
          {props.errors[""]}
        </div>
      )}
      {fields.map((f) => (
        <Field
          key={pathKey(f.path)}
          field={f}
          prefix={prefix}
          values={props.values}
          set={set}
          errors={props.errors}
        />
      ))}
    </>
  );
}

function Field(props: {
  field: FormField;
  prefix: string;
  values: FormValues;
  set(key: string, v: string | boolean): void;
  errors: Readonly<Record<string, string>>;
}) {
  const { field, prefix, values, set, errors } = props;
  const key = pathKey(field.path);
  const id = `${prefix}-${key.replace(/[^\w-]/g, "_") || "root"}`;
  const error = errors[key];
  const hintId = field.description ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(" ") || undefined;
  const text = typeof values[key] === "string" ? (values[key] as string) : "";
  const common = {
    id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy,
    "aria-required": field.required || undefined,
  };
  const label = (
    <label htmlFor={id}>
      {field.label}
      {field.required && (
        <span className="required" title="required">
          {" "}
          *<span className="sr-only"> (required)</span>
        </span>
      )}
    </label>
  );
  const after = (
    <>
      {field.description && (
        <div id={hintId} className="hint">
          {field.description}
        </div>
      )}
      {error && (
        <div id={errorId} className="field-error" role="alert">
          {error}
        </div>
      )}
    </>
  );

  if (field.kind === "object")
    return (
      <fieldset className="config-object" aria-describedby={describedBy}>
        <legend>
          {field.label}
          {field.required && <span className="required"> *</span>}
        </legend>
        {after}
        {field.fields.map((f) => (
          <Field key={pathKey(f.path)} field={f} prefix={prefix} values={values} set={set} errors={errors} />
        ))}
      </fieldset>
    );
  if (field.kind === "boolean")
    return (
      <div className="field">
        <label className="check">
          <input
            type="checkbox"
            {...common}
            checked={values[key] === true}
            onChange={(e) => set(key, e.target.checked)}
          />
          {field.label}
        </label>
        {after}
      </div>
    );
  let control: React.ReactNode;
  switch (field.kind) {
    case "enum":
      control = (
        <select {...common} value={text} onChange={(e) => set(key, e.target.value)}>
          {(!field.required || field.default === undefined) && <option value="">—</option>}
          {field.options.map((o) => (
            <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      );
      break;
    case "number":
      control = (
        <input
          type="number"
          {...common}
          step={field.integer ? 1 : "any"}
          min={field.minimum}
          max={field.maximum}
          value={text}
          onChange={(e) => set(key, e.target.value)}
        />
      );
      break;
    case "array":
      control = (
        <input
          type="text"
          {...common}
          placeholder={`${field.items} values, separated by commas`}
          value={text}
          onChange={(e) => set(key, e.target.value)}
        />
      );
      break;
    case "json":
      control = (
        <textarea
          {...common}
          rows={3}
          spellCheck={false}
          placeholder="JSON"
          value={text}
          onChange={(e) => set(key, e.target.value)}
        />
      );
      break;
    default:
      control = field.multiline ? (
        <textarea {...common} rows={3} value={text} onChange={(e) => set(key, e.target.value)} />
      ) : (
        <input type="text" {...common} value={text} onChange={(e) => set(key, e.target.value)} />
      );
  }
  return (
    <div className="field">
      {label}
      {control}
      {field.kind === "array" && <div className="hint">A list: separate the values with commas.</div>}
      {after}
    </div>
  );
}
