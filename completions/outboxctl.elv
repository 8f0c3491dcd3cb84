
use builtin;
use str;

set edit:completion:arg-completer[outboxctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'outboxctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'outboxctl'= {
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create or upgrade the outbox schema; adopts a table of the original design. Idempotent'
            cand emit 'Write events into the outbox, each in one transaction with its business rows'
            cand process-once 'Claim one batch of due messages, deliver them, record the outcomes, exit (for cron)'
            cand run 'Process batches in a loop until SIGINT or SIGTERM'
            cand list 'List messages (default: unprocessed, oldest first)'
            cand show 'Show every field of one message, its full content and its error history'
            cand explain 'Say in one sentence why a message is (not yet) delivered, and what to do about it'
            cand stats 'Print counts by state and type, and the age of the oldest unprocessed message'
            cand retry 'Make failed or dead messages due now'
            cand skip 'Give up on messages so the later messages of their ordering key go on (they stay, marked skipped)'
            cand purge 'Delete processed messages older than a duration (never unprocessed, failing or dead ones)'
            cand replay 'Deliver messages again: to their routes, or to one sink (a backfill)'
            cand audit 'The audit trail: who retried, skipped or purged what, and when (newest first)'
            cand completions 'Print a shell completion script'
            cand health 'Check the outbox for monitors: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN'
            cand dashboard 'Serve the web dashboard: statistics, a throughput chart, message lists, details and actions'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'outboxctl;init'= {
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;emit'= {
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand user-registered 'Register sample users: a Users row and a UserRegistered message, in one transaction each'
            cand event 'Emit one event of any type with JSON content'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'outboxctl;emit;user-registered'= {
            cand --email 'Email of the user (unique); generated when omitted'
            cand --name 'Display name of the user'
            cand --count 'How many users to register (emails are generated)'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;emit;event'= {
            cand --key 'Ordering key (e.g. the aggregate''s id): events with the same key are delivered one at a time, in the order they occurred'
            cand --traceparent 'W3C trace context of the caller (00-TRACEID-SPANID-FLAGS), carried to every destination'
            cand --tracestate 'W3C tracestate that goes with --traceparent (ignored without one, as W3C says)'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;emit;help'= {
            cand user-registered 'Register sample users: a Users row and a UserRegistered message, in one transaction each'
            cand event 'Emit one event of any type with JSON content'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'outboxctl;emit;help;user-registered'= {
        }
        &'outboxctl;emit;help;event'= {
        }
        &'outboxctl;emit;help;help'= {
        }
        &'outboxctl;process-once'= {
            cand --batch-size 'Messages to claim [default: 20, or batch_size in the config]'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;run'= {
            cand --every 'Poll at least this often, e.g. 500ms, 10s, 1m [default: 60s, or every in the config]; new messages and due retries wake the relay sooner'
            cand --cron 'Process on a cron schedule instead (UTC), e.g. "* * * * *"'
            cand --batch-size 'Messages to claim per batch [default: 20, or batch_size in the config]'
            cand --metrics-listen 'Serve /metrics (Prometheus) and /healthz on this address, e.g. 127.0.0.1:9187'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;list'= {
            cand --type 'Only this event type'
            cand --limit 'At most this many rows'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand --unprocessed 'Not processed yet, dead ones included (ProcessedOnUtc IS NULL), oldest first'
            cand --failed 'Currently failing, retrying or dead (Error IS NOT NULL), oldest first'
            cand --dead 'Out of attempts or permanently failed, oldest first'
            cand --processed 'Delivered, most recently processed first'
            cand --blocked 'Ordering keys held back by a failing or dead message: that message, its error, and how many wait behind it'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;show'= {
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;explain'= {
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;stats'= {
            cand -o 'Write to this file instead of stdout, atomically (a temporary file renamed into place), e.g. for node_exporter''s textfile collector with --format prometheus'
            cand --output 'Write to this file instead of stdout, atomically (a temporary file renamed into place), e.g. for node_exporter''s textfile collector with --format prometheus'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;retry'= {
            cand --id 'These messages'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand --failed 'Every failing message that is not dead'
            cand --dead 'Every dead message (they get a fresh set of attempts)'
            cand --dry-run 'Only count what would be retried'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;skip'= {
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand --dry-run 'Only count what would be skipped'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;purge'= {
            cand --older-than 'Age of processing past which a processed message is deleted, e.g. 7d, 12h'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand --dry-run 'Only count what would be deleted'
            cand -y 'Do not ask for confirmation (needed when stdin is not a terminal)'
            cand --yes 'Do not ask for confirmation (needed when stdin is not a terminal)'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;replay'= {
            cand --id 'These messages'
            cand --type 'Only messages of these event types'
            cand --key 'Only messages of this ordering key'
            cand --since 'Occurred at or after this time (e.g. "2024-01-15 10:30:00") or this long ago (e.g. 7d)'
            cand --until 'Occurred before this time, or this long ago'
            cand --processed-since 'Processed at or after this time, or this long ago'
            cand --processed-until 'Processed before this time, or this long ago'
            cand --state 'Which messages: processed, dead, or all [default: processed; all with --id]'
            cand --to 'Deliver only to this sink (e.g. a destination added today), not to the types'' routes'
            cand --rate 'At most this many messages per second, e.g. 2000/s'
            cand --batch-size 'Messages to claim per pass [default: 20, or batch_size in the config]'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand --new-delivery-id 'Send a fresh delivery id (webhook-id, Nats-Msg-Id, AMQP message_id, the Redis id field), the message id beside it, so a destination''s dedup window does not swallow the replay'
            cand --dry-run 'Only count what would be replayed, and show the first few'
            cand -y 'Do not ask for confirmation (needed when stdin is not a terminal)'
            cand --yes 'Do not ask for confirmation (needed when stdin is not a terminal)'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;audit'= {
            cand --since 'Only actions since this time (e.g. 2024-01-15 or "2024-01-15 10:30:00") or this long ago (e.g. 7d)'
            cand --limit 'At most this many rows'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;completions'= {
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;health'= {
            cand --max-lag 'CRITICAL when the oldest unprocessed (not dead) message is older than this, e.g. 5m'
            cand --warn-lag 'WARNING when the oldest unprocessed (not dead) message is older than this, e.g. 1m'
            cand --max-failed 'CRITICAL when more than N messages are failing and waiting for a retry (dead ones excluded)'
            cand --warn-failed 'WARNING when more than N messages are failing and waiting for a retry'
            cand --max-dead 'CRITICAL when more than N messages are dead (0: any dead message is critical)'
            cand --warn-dead 'WARNING when more than N messages are dead'
            cand --max-stall 'CRITICAL when messages are due and nothing was delivered for longer than this (messages waiting for a backoff or behind their key are not due)'
            cand --max-blocked 'CRITICAL when more than N ordering keys are held back by a failing or dead message'
            cand --warn-blocked 'WARNING when more than N ordering keys are held back'
            cand --warn-circuits 'WARNING when more than N destinations have their circuit open (nothing is sent to them)'
            cand --max-circuits 'CRITICAL when more than N destinations have their circuit open'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;dashboard'= {
            cand --listen 'Address to listen on'
            cand --token-file 'File holding the access token (at least 16 characters) [default: env OUTBOX_DASHBOARD_TOKEN]'
            cand --allow-host 'Also accept requests whose Host header names this host (e.g. a name behind a reverse proxy); IP addresses and localhost are always accepted'
            cand -d 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand --database 'SQLite database file (created with the schema if missing), or a postgres:// URL'
            cand -c 'Config file [default: ./outboxctl.toml if it exists]'
            cand --config 'Config file [default: ./outboxctl.toml if it exists]'
            cand --table 'Name of the outbox table [default: OutboxMessage]'
            cand --format 'Output format of commands that print data'
            cand --read-only 'Show everything, allow no action'
            cand -v 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand --verbose 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
            cand -q 'Only errors on stderr, and no summary on stdout for process-once'
            cand --quiet 'Only errors on stderr, and no summary on stdout for process-once'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'outboxctl;help'= {
            cand init 'Create or upgrade the outbox schema; adopts a table of the original design. Idempotent'
            cand emit 'Write events into the outbox, each in one transaction with its business rows'
            cand process-once 'Claim one batch of due messages, deliver them, record the outcomes, exit (for cron)'
            cand run 'Process batches in a loop until SIGINT or SIGTERM'
            cand list 'List messages (default: unprocessed, oldest first)'
            cand show 'Show every field of one message, its full content and its error history'
            cand explain 'Say in one sentence why a message is (not yet) delivered, and what to do about it'
            cand stats 'Print counts by state and type, and the age of the oldest unprocessed message'
            cand retry 'Make failed or dead messages due now'
            cand skip 'Give up on messages so the later messages of their ordering key go on (they stay, marked skipped)'
            cand purge 'Delete processed messages older than a duration (never unprocessed, failing or dead ones)'
            cand replay 'Deliver messages again: to their routes, or to one sink (a backfill)'
            cand audit 'The audit trail: who retried, skipped or purged what, and when (newest first)'
            cand completions 'Print a shell completion script'
            cand health 'Check the outbox for monitors: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN'
            cand dashboard 'Serve the web dashboard: statistics, a throughput chart, message lists, details and actions'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'outboxctl;help;init'= {
        }
        &'outboxctl;help;emit'= {
            cand user-registered 'Register sample users: a Users row and a UserRegistered message, in one transaction each'
            cand event 'Emit one event of any type with JSON content'
        }
        &'outboxctl;help;emit;user-registered'= {
        }
        &'outboxctl;help;emit;event'= {
        }
        &'outboxctl;help;process-once'= {
        }
        &'outboxctl;help;run'= {
        }
        &'outboxctl;help;list'= {
        }
        &'outboxctl;help;show'= {
        }
        &'outboxctl;help;explain'= {
        }
        &'outboxctl;help;stats'= {
        }
        &'outboxctl;help;retry'= {
        }
        &'outboxctl;help;skip'= {
        }
        &'outboxctl;help;purge'= {
        }
        &'outboxctl;help;replay'= {
        }
        &'outboxctl;help;audit'= {
        }
        &'outboxctl;help;completions'= {
        }
        &'outboxctl;help;health'= {
        }
        &'outboxctl;help;dashboard'= {
        }
        &'outboxctl;help;help'= {
        }
    ]
    $completions[$command]
}
