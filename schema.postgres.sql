-- outboxctl PostgreSQL schema: the same contract as schema.sql, in PostgreSQL's types.
--
-- `outboxctl init` runs this file inside one transaction with `SET LOCAL search_path` set to the
-- chosen schema namespace (default: the connection's current schema, normally `public`), so the
-- names below are created there. "OutboxMessage" stands for the configured table name.
--
-- Names are quoted and keep the original entity's spelling ("OutboxMessage", "ProcessedOnUtc", ...),
-- as EF Core with Npgsql creates them, so a table made by the .NET application can be adopted.
-- `init` also creates a lower-case view (outboxmessage, with columns id, type, ...) so the original
-- design's monitoring queries, which use unquoted names that PostgreSQL folds to lower case, run
-- verbatim in psql; the quoted forms work on the table itself.
--
-- Times are timestamptz (UTC instants). Applications insert only "Id", "Type", "Content" and
-- "OccuredOnUtc"; every other column has a default.

CREATE TABLE IF NOT EXISTS "OutboxMessage" (
    "Id"               text        NOT NULL PRIMARY KEY,
    "Type"             text        NOT NULL,
    "Content"          text        NOT NULL,
    "OccuredOnUtc"     timestamptz NOT NULL,
    -- Set exactly when every destination accepted the message. NULL = not processed.
    "ProcessedOnUtc"   timestamptz NULL,
    -- The last failure; cleared on success, so "Error" IS NOT NULL means "currently failing".
    "Error"            text        NULL,
    -- Deliveries started so far (counted at claim time, so a crash mid-delivery counts too).
    "Attempts"         integer     NOT NULL DEFAULT 0,
    -- Not tried again before this time. NULL = due now. While claimed, the lease expiry.
    "NextAttemptOnUtc" timestamptz NULL,
    -- The relay instance holding the claim, and until when. A claim past its expiry is taken over.
    "LockedBy"         text        NULL,
    "LockedUntilUtc"   timestamptz NULL,
    -- Set when the attempts ran out or the failure was permanent: the message no longer competes.
    "DeadOnUtc"        timestamptz NULL,
    "LastAttemptOnUtc" timestamptz NULL,
    -- Optional ordering key (an aggregate's id, say): messages with the same key are delivered one
    -- at a time, in "OccuredOnUtc" order (ties by "Id"). NULL = no order beyond oldest first.
    "OrderingKey"      text        NULL,
    -- Set by `outboxctl skip` (or a type's on_dead = "skip"): the message stays undelivered, kept
    -- and shown, but no longer holds back the later messages of its key.
    "SkippedOnUtc"     timestamptz NULL,
    -- Claims of it that ended with no outcome recorded (the relay died or hung mid-delivery),
    -- since its last recorded failure. At 3 it is parked: dead, until an operator retries it.
    "Crashes"          integer     NOT NULL DEFAULT 0,
    -- Optional W3C Trace Context of the request that caused the event (its `traceparent` and
    -- `tracestate` headers), written by the application in the same INSERT: every destination
    -- gets it, so the consumer's work joins the request's trace. NULL = no trace.
    "TraceParent"      text        NULL,
    "TraceState"       text        NULL
);

-- Every message is claimed once before it is processed, and the claim changes no indexed column:
-- with half of each page kept free, the claim's new row version goes on the same page (a HOT
-- update) and no index is written. This doubles the table's size on disk; it buys about 40% of
-- drain speed. (An existing table keeps its rows where they are; new rows get the free space.)
ALTER TABLE "OutboxMessage" SET (fillfactor = 50);

-- Claiming the next due batch walks only unprocessed, live rows in arrival order; processed rows
-- never enter this index however many pile up. It holds no lease or backoff column, so a claim
-- (which writes them) leaves it alone; the claim checks them on the row it visits anyway.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_due"
    ON "OutboxMessage" ("OccuredOnUtc")
    WHERE "ProcessedOnUtc" IS NULL AND "DeadOnUtc" IS NULL;

-- A keyed message waits while an earlier one of its key is neither processed nor skipped: the
-- claim looks that up here, among the unprocessed keyed rows only.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_key"
    ON "OutboxMessage" ("OrderingKey", "OccuredOnUtc", "Id")
    WHERE "ProcessedOnUtc" IS NULL AND "SkippedOnUtc" IS NULL AND "OrderingKey" IS NOT NULL;

-- Messages whose claims ended with no outcome: after two such crashes a claim takes at most one of
-- them, delivered before the rest of its batch, so the one that kills relays is found and parked.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_crashed"
    ON "OutboxMessage" ("OccuredOnUtc")
    WHERE "Crashes" > 0 AND "ProcessedOnUtc" IS NULL AND "DeadOnUtc" IS NULL;

-- stats, and list --unprocessed / --dead, over unprocessed rows only.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_unprocessed"
    ON "OutboxMessage" ("OccuredOnUtc", "Type")
    WHERE "ProcessedOnUtc" IS NULL;

-- list --failed (the original's "Error IS NOT NULL" query).
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_failed"
    ON "OutboxMessage" ("OccuredOnUtc")
    WHERE "Error" IS NOT NULL;

-- purge and list --processed walk processed rows by processing time.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_processed"
    ON "OutboxMessage" ("ProcessedOnUtc")
    WHERE "ProcessedOnUtc" IS NOT NULL;

-- Every failed attempt, so the history of errors is kept.
CREATE TABLE IF NOT EXISTS "OutboxMessage_Attempt" (
    "MessageId"   text        NOT NULL,
    "Attempt"     integer     NOT NULL,
    "Destination" text        NULL,
    "FailedOnUtc" timestamptz NOT NULL,
    "Error"       text        NOT NULL,
    "Seq"         bigint      GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Attempt_message"
    ON "OutboxMessage_Attempt" ("MessageId", "Seq");
-- The dashboard's failures-over-time chart reads recent attempts by time.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Attempt_failed"
    ON "OutboxMessage_Attempt" ("FailedOnUtc");

-- Destinations that already accepted a message routed to several, so a retry skips them.
CREATE TABLE IF NOT EXISTS "OutboxMessage_Delivery" (
    "MessageId"      text        NOT NULL,
    "Destination"    text        NOT NULL,
    "DeliveredOnUtc" timestamptz NOT NULL,
    PRIMARY KEY ("MessageId", "Destination")
);

-- Destinations whose circuit is open: after `circuit_failures` failures in a row the relays stop
-- sending to one until "OpenUntilUtc", then one relay probes it with one message. No row = closed.
CREATE TABLE IF NOT EXISTS "OutboxMessage_Circuit" (
    "Destination"  text        NOT NULL PRIMARY KEY,
    -- Failures in a row, the failed probes included.
    "Failures"     integer     NOT NULL,
    "OpenedOnUtc"  timestamptz NOT NULL,
    "OpenUntilUtc" timestamptz NOT NULL,
    "LastError"    text        NOT NULL
);

-- The audit trail: one row per operator action (retry, skip, purge, a dashboard action) and per
-- message the relay parked, written in the same transaction as its effect. `purge` never deletes
-- these rows by age of messages; they have their own retention (`[audit] retention`).
CREATE TABLE IF NOT EXISTS "OutboxMessage_Audit" (
    "Seq"       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- One operation, one row: a purge's chunks add their counts to it.
    "Operation" text        NOT NULL UNIQUE,
    "AtUtc"     timestamptz NOT NULL,
    -- The OS user, `dashboard`, or the relay that parked a message.
    "Actor"     text        NOT NULL,
    "Action"    text        NOT NULL,
    -- The command line (secrets redacted), or the dashboard action.
    "Command"   text        NOT NULL,
    "Messages"  bigint      NOT NULL,
    -- The ids named (a JSON array), or the selection (e.g. "dead").
    "Ids"       text        NULL,
    "Filter"    text        NULL
);
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Audit_at" ON "OutboxMessage_Audit" ("AtUtc");

-- Replays (`outboxctl replay`): messages delivered again, to their routes or to one sink, tracked
-- here and never in the message's own columns (its "ProcessedOnUtc" stays the first delivery's).
CREATE TABLE IF NOT EXISTS "OutboxMessage_Replay" (
    -- The audit row's "Operation".
    "Replay"        text        NOT NULL PRIMARY KEY,
    -- The selection and options: the same command finds an unfinished replay and resumes it.
    "Fingerprint"   text        NOT NULL,
    "CreatedOnUtc"  timestamptz NOT NULL,
    -- `--to`: only this sink. NULL = each message's routes.
    "Sink"          text        NULL,
    -- `--new-delivery-id`: destinations see a fresh id per replay (the message id beside it).
    "NewDeliveryId" boolean     NOT NULL,
    "Messages"      bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Replay_fingerprint"
    ON "OutboxMessage_Replay" ("Fingerprint");

-- One row per message of a replay: the relay's claim columns, for this replay's delivery of it.
CREATE TABLE IF NOT EXISTS "OutboxMessage_Replayed" (
    "Replay"           text        NOT NULL,
    -- Delivery order within the replay (the messages' occurrence order).
    "Seq"              bigint      NOT NULL,
    -- The message's "Id" in its text form (as in "OutboxMessage_Attempt").
    "MessageId"        text        NOT NULL,
    "OrderingKey"      text        NULL,
    "Attempts"         integer     NOT NULL DEFAULT 0,
    "NextAttemptOnUtc" timestamptz NULL,
    "LockedBy"         text        NULL,
    "LockedUntilUtc"   timestamptz NULL,
    "Error"            text        NULL,
    -- Destinations that accepted it in this replay, when it goes to several.
    "Accepted"         text[]      NULL,
    "DeliveredOnUtc"   timestamptz NULL,
    "DeadOnUtc"        timestamptz NULL,
    PRIMARY KEY ("Replay", "Seq")
);
-- A message's rows, per replay: how outcomes find their row (with the replay, not instead).
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Replayed_message"
    ON "OutboxMessage_Replayed" ("MessageId", "Replay");
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Replayed_due"
    ON "OutboxMessage_Replayed" ("Replay", "Seq")
    WHERE "DeliveredOnUtc" IS NULL AND "DeadOnUtc" IS NULL;
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Replayed_key"
    ON "OutboxMessage_Replayed" ("Replay", "OrderingKey", "Seq")
    WHERE "DeliveredOnUtc" IS NULL AND "DeadOnUtc" IS NULL AND "OrderingKey" IS NOT NULL;

-- Processed counts per type, kept by triggers so stats never scans processed rows. Each server
-- backend counts into its own shard (pg_backend_pid() % 16), so relays marking messages processed
-- side by side do not queue on one hot counter row; stats adds the shards up. A relay's session
-- sets outboxctl.counts_itself = on and adds a whole run's counts in the statement that marks it,
-- so the per-row trigger skips its marks (one counter update per run instead of one per row).
CREATE TABLE IF NOT EXISTS "OutboxMessage_Processed" (
    "Type"      text    NOT NULL,
    "Shard"     integer NOT NULL,
    "Processed" bigint  NOT NULL,
    PRIMARY KEY ("Type", "Shard")
);

CREATE OR REPLACE FUNCTION "OutboxMessage_count_processed"() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    shard integer := pg_backend_pid() % 16;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD."ProcessedOnUtc" IS NOT NULL THEN
        INSERT INTO "OutboxMessage_Processed" AS p ("Type", "Shard", "Processed")
        VALUES (OLD."Type", shard, -1)
        ON CONFLICT ("Type", "Shard") DO UPDATE SET "Processed" = p."Processed" - 1;
    END IF;
    IF NEW."ProcessedOnUtc" IS NOT NULL THEN
        INSERT INTO "OutboxMessage_Processed" AS p ("Type", "Shard", "Processed")
        VALUES (NEW."Type", shard, 1)
        ON CONFLICT ("Type", "Shard") DO UPDATE SET "Processed" = p."Processed" + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "OutboxMessage_uncount_deleted"() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO "OutboxMessage_Processed" AS p ("Type", "Shard", "Processed")
    SELECT "Type", pg_backend_pid() % 16, -count(*) FROM gone
    WHERE "ProcessedOnUtc" IS NOT NULL GROUP BY "Type"
    ON CONFLICT ("Type", "Shard") DO UPDATE SET "Processed" = p."Processed" + EXCLUDED."Processed";
    RETURN NULL;
END $$;

-- A wake-up hint for relays waiting in `run` (LISTEN "<schema>.<table>"): one notification per
-- inserting statement, and PostgreSQL folds duplicates within a transaction.
CREATE OR REPLACE FUNCTION "OutboxMessage_notify"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(left(TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 63), '');
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS "tr_OutboxMessage_processed_insert" ON "OutboxMessage";
CREATE TRIGGER "tr_OutboxMessage_processed_insert"
    AFTER INSERT ON "OutboxMessage" FOR EACH ROW
    WHEN (NEW."ProcessedOnUtc" IS NOT NULL)
    EXECUTE FUNCTION "OutboxMessage_count_processed"();

DROP TRIGGER IF EXISTS "tr_OutboxMessage_processed_update" ON "OutboxMessage";
CREATE TRIGGER "tr_OutboxMessage_processed_update"
    AFTER UPDATE OF "ProcessedOnUtc", "Type" ON "OutboxMessage" FOR EACH ROW
    WHEN (((OLD."ProcessedOnUtc" IS NULL) <> (NEW."ProcessedOnUtc" IS NULL) OR OLD."Type" <> NEW."Type")
          AND current_setting('outboxctl.counts_itself', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION "OutboxMessage_count_processed"();

DROP TRIGGER IF EXISTS "tr_OutboxMessage_processed_delete" ON "OutboxMessage";
CREATE TRIGGER "tr_OutboxMessage_processed_delete"
    AFTER DELETE ON "OutboxMessage" REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION "OutboxMessage_uncount_deleted"();

DROP TRIGGER IF EXISTS "tr_OutboxMessage_notify" ON "OutboxMessage";
CREATE TRIGGER "tr_OutboxMessage_notify"
    AFTER INSERT ON "OutboxMessage" FOR EACH STATEMENT
    EXECUTE FUNCTION "OutboxMessage_notify"();

-- The version of this schema (src/store/mod.rs, SCHEMA_VERSION). `init` migrates an older one
-- (an outboxctl schema without this table is version 1) and refuses a newer one.
CREATE TABLE IF NOT EXISTS "OutboxMessage_Schema" (
    "Version" integer NOT NULL
);
DELETE FROM "OutboxMessage_Schema";
INSERT INTO "OutboxMessage_Schema" ("Version") VALUES (5);
