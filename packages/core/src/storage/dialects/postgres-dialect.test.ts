import { describe, expect, test } from "vitest";
import { StorageError } from "../../errors.js";
import { isConnectionLoss, retryingTransaction } from "./postgres-dialect.js";

const LOCATION = "postgres://baton@db.example:5432/baton";
const noSleep = async () => {};

function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe("isConnectionLoss", () => {
  test("a restart, a terminated backend, a refused or dropped connection", () => {
    expect(isConnectionLoss(pgError("terminating connection due to administrator command", "57P01"))).toBe(
      true,
    );
    expect(isConnectionLoss(pgError("the database system is starting up", "57P03"))).toBe(true);
    expect(isConnectionLoss(pgError("connection failure", "08006"))).toBe(true);
    expect(isConnectionLoss(pgError("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"))).toBe(true);
    expect(isConnectionLoss(new AggregateError([pgError("connect ECONNREFUSED ::1", "ECONNREFUSED")]))).toBe(
      true,
    );
    expect(isConnectionLoss(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(
      isConnectionLoss(new Error("Client has encountered a connection error and is not queryable")),
    ).toBe(true);
  });

  test("not a statement that is wrong, a constraint or a deadlock", () => {
    expect(isConnectionLoss(pgError('relation "nope" does not exist', "42P01"))).toBe(false);
    expect(isConnectionLoss(pgError("duplicate key value violates unique constraint", "23505"))).toBe(false);
    expect(isConnectionLoss(pgError("deadlock detected", "40P01"))).toBe(false);
    expect(isConnectionLoss("a string")).toBe(false);
    expect(isConnectionLoss(undefined)).toBe(false);
  });
});

describe("retryingTransaction", () => {
  test("a connection lost before COMMIT: the transaction runs again and its result is returned", async () => {
    let attempts = 0;
    const result = await retryingTransaction(
      async () => {
        attempts++;
        if (attempts < 3) throw pgError("terminating connection due to administrator command", "57P01");
        return "saved";
      },
      { location: LOCATION, sleep: noSleep },
    );
    expect(result).toBe("saved");
    expect(attempts).toBe(3);
  });

  test("any other error is not retried and comes back as it was", async () => {
    let attempts = 0;
    const error = pgError("duplicate key value violates unique constraint", "23505");
    await expect(
      retryingTransaction(
        async () => {
          attempts++;
          throw error;
        },
        { location: LOCATION, sleep: noSleep },
      ),
    ).rejects.toBe(error);
    expect(attempts).toBe(1);
  });

  test("a connection lost during COMMIT is not retried (it may have committed); the error names the store", async () => {
    let attempts = 0;
    const failure = retryingTransaction(
      async (markCommitting) => {
        attempts++;
        markCommitting();
        throw new Error("Connection terminated unexpectedly");
      },
      { location: LOCATION, sleep: noSleep },
    );
    await expect(failure).rejects.toBeInstanceOf(StorageError);
    await expect(failure).rejects.toThrow(
      `Lost the connection to the postgres store at ${LOCATION} while committing (the write may or may not have been saved): Connection terminated unexpectedly`,
    );
    expect(attempts).toBe(1);
  });

  test("a COMMIT pg refused to send (the client was known dead) is retried", async () => {
    let attempts = 0;
    const result = await retryingTransaction(
      async (markCommitting) => {
        attempts++;
        markCommitting();
        if (attempts === 1) throw new Error("Client has encountered a connection error and is not queryable");
        return 7;
      },
      { location: LOCATION, sleep: noSleep },
    );
    expect(result).toBe(7);
    expect(attempts).toBe(2);
  });

  test("a server that stays down: a StorageError naming the store after the wait, with the cause", async () => {
    let losses = 0;
    const cause = pgError("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED");
    const started = Date.now();
    const failure = retryingTransaction(
      async () => {
        throw cause;
      },
      { location: LOCATION, waitMs: 300, onLoss: () => losses++ },
    );
    await expect(failure).rejects.toThrow(
      new RegExp(
        `^The postgres store at ${LOCATION.replace(/[.]/g, "\\.")} was unreachable for 0\\.\\d s: connect ECONNREFUSED 127\\.0\\.0\\.1:5432\\. Check that the server is running\\.$`,
      ),
    );
    await expect(failure).rejects.toMatchObject({ code: "STORAGE_ERROR", cause });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(losses).toBeGreaterThanOrEqual(3); // 100, 200 ms backoff, then the budget's rest
  });
});
