-- outboxctl SQLite schema: the public contract between applications and the relay.
--
-- Applications insert rows into "OutboxMessage" in the same transaction as their business data.
-- They only need to write Id, Type, Content and OccuredOnUtc; every other column has a default.
--
-- Times are UTC text in the form 'YYYY-MM-DD HH:MM:SS.ffffff' (what SQLite's
-- strftime('%Y-%m-%d %H:%M:%f', 'now') and EF Core write, fraction optional). Text in this form sorts
-- in time order. Ids are UUID text; time-ordered ones (UUIDv7) keep the primary key index compact.
--
-- The table name "OutboxMessage" is replaced by the configured name (`table` in outboxctl.toml).
-- Applying this file is idempotent; outboxctl adds missing columns to a table of the original
-- design before it runs this file.

CREATE TABLE IF NOT EXISTS "OutboxMessage" (
    Id               TEXT    NOT NULL PRIMARY KEY,
    Type             TEXT    NOT NULL,
    Content          TEXT    NOT NULL,
    OccuredOnUtc     TEXT    NOT NULL,
    -- Set exactly when every destination accepted the message. NULL = not processed.
    ProcessedOnUtc   TEXT    NULL,
    -- The last failure; cleared on success, so "Error IS NOT NULL" means "currently failing".
    Error            TEXT    NULL,
    -- Deliveries started so far (counted at claim time, so a crash mid-delivery counts too).
    Attempts         INTEGER NOT NULL DEFAULT 0,
    -- Not tried again before this time. NULL = due now. While claimed, the lease expiry.
    NextAttemptOnUtc TEXT    NULL,
    -- The relay instance holding the claim, and until when. A claim past its expiry is taken over.
    LockedBy         TEXT    NULL,
    LockedUntilUtc   TEXT    NULL,
    -- Set when the attempts ran out or the failure was permanent: the message no longer competes.
    DeadOnUtc        TEXT    NULL,
    LastAttemptOnUtc TEXT    NULL,
    -- Optional ordering key (an aggregate's id, say): messages with the same key are delivered one
    -- at a time, in OccuredOnUtc order (ties by Id). NULL = no order beyond oldest first.
    OrderingKey      TEXT    NULL,
    -- Set by `outboxctl skip` (or a type's on_dead = "skip"): the message stays undelivered, kept
    -- and shown, but no longer holds back the later messages of its key.
    SkippedOnUtc     TEXT    NULL,
    -- Claims of it that ended with no outcome recorded (the relay died or hung mid-delivery),
    -- since its last recorded failure. At 3 it is parked: dead, until an operator retries it.
    Crashes          INTEGER NOT NULL DEFAULT 0,
    -- Optional W3C Trace Context of the request that caused the event (its `traceparent` and
    -- `tracestate` headers), written by the application in the same INSERT: every destination
    -- gets it, so the consumer's work joins the request's trace. NULL = no trace.
    TraceParent      TEXT    NULL,
    TraceState       TEXT    NULL
);

-- Claiming the next due batch walks only unprocessed, live rows, in arrival order; processed rows
-- never enter this index however many pile up. NextAttemptOnUtc is included so the due filter is
-- answered from the index.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_due"
    ON "OutboxMessage" (OccuredOnUtc, NextAttemptOnUtc)
    WHERE ProcessedOnUtc IS NULL AND DeadOnUtc IS NULL;

-- A keyed message waits while an earlier one of its key is neither processed nor skipped: the
-- claim looks that up here, among the unprocessed keyed rows only. (Ties in time, rare, are broken
-- by Id from the row: the index stays small.)
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_key"
    ON "OutboxMessage" (OrderingKey, OccuredOnUtc)
    WHERE ProcessedOnUtc IS NULL AND SkippedOnUtc IS NULL AND OrderingKey IS NOT NULL;

-- Messages whose claims ended with no outcome: after two such crashes a claim takes at most one of
-- them, delivered before the rest of its batch, so the one that kills relays is found and parked.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_crashed"
    ON "OutboxMessage" (OccuredOnUtc)
    WHERE Crashes > 0 AND ProcessedOnUtc IS NULL AND DeadOnUtc IS NULL;

-- stats and list over unprocessed rows (pending, retrying, dead) by type.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_unprocessed"
    ON "OutboxMessage" (Type, DeadOnUtc, Error IS NOT NULL)
    WHERE ProcessedOnUtc IS NULL;

-- purge and "list --processed" walk processed rows by processing time.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_processed"
    ON "OutboxMessage" (ProcessedOnUtc)
    WHERE ProcessedOnUtc IS NOT NULL;

-- Every failed attempt, so the history of errors is kept (the original kept only the last one).
CREATE TABLE IF NOT EXISTS "OutboxMessage_Attempt" (
    MessageId     TEXT    NOT NULL,
    Attempt       INTEGER NOT NULL,
    Destination   TEXT    NULL,
    FailedOnUtc   TEXT    NOT NULL,
    Error         TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Attempt_message"
    ON "OutboxMessage_Attempt" (MessageId);
-- The dashboard's failures-over-time chart reads recent attempts by time.
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Attempt_failed"
    ON "OutboxMessage_Attempt" (FailedOnUtc);

-- Destinations that already accepted a message routed to several, so a retry skips them.
CREATE TABLE IF NOT EXISTS "OutboxMessage_Delivery" (
    MessageId      TEXT NOT NULL,
    Destination    TEXT NOT NULL,
    DeliveredOnUtc TEXT NOT NULL,
    PRIMARY KEY (MessageId, Destination)
);

-- Destinations whose circuit is open: after `circuit_failures` failures in a row the relays stop
-- sending to one until OpenUntilUtc, then one relay probes it with one message. No row = closed.
CREATE TABLE IF NOT EXISTS "OutboxMessage_Circuit" (
    Destination  TEXT    NOT NULL PRIMARY KEY,
    -- Failures in a row, the failed probes included.
    Failures     INTEGER NOT NULL,
    OpenedOnUtc  TEXT    NOT NULL,
    OpenUntilUtc TEXT    NOT NULL,
    LastError    TEXT    NOT NULL
);

-- The audit trail: one row per operator action (retry, skip, purge, a dashboard action) and per
-- message the relay parked, written in the same transaction as its effect. `purge` never deletes
-- these rows by age of messages; they have their own retention (`[audit] retention`).
CREATE TABLE IF NOT EXISTS "OutboxMessage_Audit" (
    Seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    -- One operation, one row: a purge's chunks add their counts to it.
    Operation TEXT    NOT NULL UNIQUE,
    AtUtc     TEXT    NOT NULL,
    -- The OS user, `dashboard`, or the relay that parked a message.
    Actor     TEXT    NOT NULL,
    Action    TEXT    NOT NULL,
    -- The command line (secrets redacted), or the dashboard action.
    Command   TEXT    NOT NULL,
    Messages  INTEGER NOT NULL,
    -- The ids named (a JSON array), or the selection (e.g. "dead").
    Ids       TEXT    NULL,
    Filter    TEXT    NULL
);
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Audit_at" ON "OutboxMessage_Audit" (AtUtc);

-- Replays (`outboxctl replay`): messages delivered again, to their routes or to one sink, tracked
-- here and never in the message's own columns (its ProcessedOnUtc stays the first delivery's).
CREATE TABLE IF NOT EXISTS "OutboxMessage_Replay" (
    -- The audit row's Operation.
    Replay        TEXT    NOT NULL PRIMARY KEY,
    -- The selection and options: the same command finds an unfinished replay and resumes it.
    Fingerprint   TEXT    NOT NULL,
    CreatedOnUtc  TEXT    NOT NULL,
    -- `--to`: only this sink. NULL = each message's routes.
    Sink          TEXT    NULL,
    -- `--new-delivery-id`: destinations see a fresh id per replay (the message id beside it).
    NewDeliveryId INTEGER NOT NULL,
    Messages      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Replay_fingerprint"
    ON "OutboxMessage_Replay" (Fingerprint);

-- One row per message of a replay: the relay's claim columns, for this replay's delivery of it.
CREATE TABLE IF NOT EXISTS "OutboxMessage_Replayed" (
    Replay           TEXT    NOT NULL,
    -- Delivery order within the replay (the messages' occurrence order).
    Seq              INTEGER NOT NULL,
    -- The message's Id as stored (text, or the bytes of an Id that is not valid UTF-8). No type
    -- affinity: compared with the outbox's TEXT Id it takes the Id's, so the join uses its index.
    MessageId        BLOB    NOT NULL,
    OrderingKey      TEXT    NULL,
    Attempts         INTEGER NOT NULL DEFAULT 0,
    NextAttemptOnUtc TEXT    NULL,
    LockedBy         TEXT    NULL,
    LockedUntilUtc   TEXT    NULL,
    Error            TEXT    NULL,
    -- Destinations that accepted it in this replay (a JSON array), when it goes to several.
    Accepted         TEXT    NULL,
    DeliveredOnUtc   TEXT    NULL,
    DeadOnUtc        TEXT    NULL,
    PRIMARY KEY (Replay, Seq)
);
-- A message's rows, per replay: how outcomes find their row (with the replay, not instead).
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Replayed_message"
    ON "OutboxMessage_Replayed" (MessageId, Replay);
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Replayed_due"
    ON "OutboxMessage_Replayed" (Replay, Seq)
    WHERE DeliveredOnUtc IS NULL AND DeadOnUtc IS NULL;
CREATE INDEX IF NOT EXISTS "ix_OutboxMessage_Replayed_key"
    ON "OutboxMessage_Replayed" (Replay, OrderingKey, Seq)
    WHERE DeliveredOnUtc IS NULL AND DeadOnUtc IS NULL AND OrderingKey IS NOT NULL;

-- Processed counts per type, kept by triggers so `stats` never scans processed rows.
-- (`outboxctl purge` deletes with triggers off when the table has no trigger besides these, and
-- subtracts the counts itself in the same transaction: the counts stay right either way.)
CREATE TABLE IF NOT EXISTS "OutboxMessage_Processed" (
    Type      TEXT    NOT NULL PRIMARY KEY,
    Processed INTEGER NOT NULL
);

CREATE TRIGGER IF NOT EXISTS "tr_OutboxMessage_processed_insert"
AFTER INSERT ON "OutboxMessage" WHEN NEW.ProcessedOnUtc IS NOT NULL
BEGIN
    INSERT INTO "OutboxMessage_Processed" (Type, Processed) VALUES (NEW.Type, 1)
    ON CONFLICT (Type) DO UPDATE SET Processed = Processed + 1;
END;

CREATE TRIGGER IF NOT EXISTS "tr_OutboxMessage_processed_update"
AFTER UPDATE OF ProcessedOnUtc, Type ON "OutboxMessage"
WHEN (OLD.ProcessedOnUtc IS NULL) <> (NEW.ProcessedOnUtc IS NULL) OR OLD.Type <> NEW.Type
BEGIN
    UPDATE "OutboxMessage_Processed" SET Processed = Processed - 1
    WHERE OLD.ProcessedOnUtc IS NOT NULL AND Type = OLD.Type;
    INSERT INTO "OutboxMessage_Processed" (Type, Processed)
    SELECT NEW.Type, 1 WHERE NEW.ProcessedOnUtc IS NOT NULL
    ON CONFLICT (Type) DO UPDATE SET Processed = Processed + 1;
END;

CREATE TRIGGER IF NOT EXISTS "tr_OutboxMessage_processed_delete"
AFTER DELETE ON "OutboxMessage" WHEN OLD.ProcessedOnUtc IS NOT NULL
BEGIN
    UPDATE "OutboxMessage_Processed" SET Processed = Processed - 1 WHERE Type = OLD.Type;
END;

-- The version of this schema (src/store/mod.rs, SCHEMA_VERSION). `init` migrates an older one
-- (an outboxctl schema without this table is version 1) and refuses a newer one.
CREATE TABLE IF NOT EXISTS "OutboxMessage_Schema" (
    Version INTEGER NOT NULL
);
DELETE FROM "OutboxMessage_Schema";
INSERT INTO "OutboxMessage_Schema" (Version) VALUES (5);
