import type { Me, Role } from "@baton/webserver/api-types";
import { useQueryClient } from "@tanstack/react-query";
import { createContext, type FormEvent, type ReactNode, useContext, useState } from "react";
import { api, isApiError, tokenStore } from "../api/client";
import { queryKeys, useMe } from "../api/queries";
import { ErrorBox } from "../components/ErrorBox";

const RANK: Record<Role, number> = { viewer: 0, launcher: 1, admin: 2 };

const MeContext = createContext<Me>({ name: "local", role: "admin", authRequired: false });

/** Who is signed in (everyone is admin on a token-less loopback server). */
export const useCurrentUser = () => useContext(MeContext);

/** Whether the current role may do something, and if not the reason to show on the disabled control. */
export function usePermission(needed: Role): { allowed: boolean; reason: string | undefined } {
  const me = useCurrentUser();
  const allowed = RANK[me.role] >= RANK[needed];
  return {
    allowed,
    reason: allowed
      ? undefined
      : `Your token (${me.name}) has the ${me.role} role; this needs ${needed === "admin" ? "an" : "a"} ${needed} token.`,
  };
}

/** Asks for a token when the API requires one (401), keeps it for the session, shows the role. */
export function AuthGate({ children }: { children: ReactNode }) {
  const me = useMe();
  if (me.isPending) return <p className="empty">Connecting to Baton…</p>;
  if (me.isError) {
    if (isApiError(me.error) && me.error.status === 401) return <LoginPrompt />;
    return (
      <div className="page">
        <ErrorBox error={me.error} title="Cannot reach the Baton API" />
      </div>
    );
  }
  return <MeContext.Provider value={me.data}>{children}</MeContext.Provider>;
}

function LoginPrompt() {
  const client = useQueryClient();
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const hadToken = tokenStore.get() !== null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) {
      setError("Enter the token you were given (BATON_API_TOKENS on the server).");
      return;
    }
    setBusy(true);
    tokenStore.set(token.trim());
    try {
      // Checked outside the query cache: a refused token must not reset this form (the "me" query
      // going back to pending would unmount it).
      const me = await api<Me>("/api/me");
      client.setQueryData(queryKeys.me, me);
      await client.invalidateQueries({ predicate: (q) => q.queryKey[0] !== queryKeys.me[0] });
    } catch (err) {
      tokenStore.set(null);
      setError(
        isApiError(err) && err.status === 401 ? "That token was not accepted." : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Baton</h1>
        <p className="muted">
          This Baton server requires an access token
          {hadToken ? "; the one you used is no longer accepted" : ""}. Ask whoever runs it for a viewer,
          launcher or admin token.
        </p>
        <div className="field">
          <label htmlFor="token">Access token</label>
          <input
            id="token"
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "token-error" : undefined}
          />
          {error && (
            <div id="token-error" className="field-error" role="alert">
              {error}
            </div>
          )}
        </div>
        <button className="primary" type="submit" disabled={busy}>
          Sign in
        </button>
        <p className="hint">The token is kept in this browser tab only.</p>
      </form>
    </main>
  );
}

export function SignOutButton() {
  const client = useQueryClient();
  return (
    <button
      type="button"
      className="ghost small"
      onClick={() => {
        // Forget the token and everything read with it; start over at the sign-in prompt.
        tokenStore.set(null);
        client.clear();
        window.location.assign("/");
      }}
    >
      Sign out
    </button>
  );
}
