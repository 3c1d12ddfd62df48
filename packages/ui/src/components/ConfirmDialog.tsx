import * as Dialog from "@radix-ui/react-dialog";
import type { ReactNode } from "react";
import { ErrorBox } from "./ErrorBox";

/**
 * A confirmation before a consequential action (cancel a run, a backfill): the action's own words on
 * the buttons, the server's error inline when it fails (the dialog stays open), Escape backs out.
 */
export function ConfirmDialog(props: {
  readonly open: boolean;
  onOpenChange(open: boolean): void;
  readonly title: string;
  readonly description: ReactNode;
  /** "Cancel run", "Cancel backfill" … */
  readonly confirmLabel: string;
  /** The button that backs out ("Keep running"). */
  readonly backOutLabel?: string;
  onConfirm(): void;
  readonly pending?: boolean;
  readonly error?: unknown;
  readonly danger?: boolean;
}) {
  return (
    <Dialog.Root open={props.open} onOpenChange={props.onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content className="dialog confirm-dialog">
          <Dialog.Title>{props.title}</Dialog.Title>
          <Dialog.Description>{props.description}</Dialog.Description>
          {props.error ? (
            <ErrorBox error={props.error} title={`Could not ${props.confirmLabel.toLowerCase()}`} />
          ) : null}
          <div className="dialog-actions">
            <Dialog.Close asChild>
              <button type="button">{props.backOutLabel ?? "Back"}</button>
            </Dialog.Close>
            <button
              type="button"
              className={props.danger ? "primary danger" : "primary"}
              disabled={props.pending}
              onClick={props.onConfirm}
            >
              {props.pending ? `${props.confirmLabel}…` : props.confirmLabel}
            </button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
