# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_outboxctl_global_optspecs
    string join \n d/database= c/config= table= format= v/verbose q/quiet h/help V/version
end

function __fish_outboxctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_outboxctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_outboxctl_using_subcommand
    set -l cmd (__fish_outboxctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c outboxctl -n "__fish_outboxctl_needs_command" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_needs_command" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_needs_command" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_needs_command" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_needs_command" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "init" -d 'Create or upgrade the outbox schema; adopts a table of the original design. Idempotent'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "emit" -d 'Write events into the outbox, each in one transaction with its business rows'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "process-once" -d 'Claim one batch of due messages, deliver them, record the outcomes, exit (for cron)'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "run" -d 'Process batches in a loop until SIGINT or SIGTERM'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "list" -d 'List messages (default: unprocessed, oldest first)'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "show" -d 'Show every field of one message, its full content and its error history'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "explain" -d 'Say in one sentence why a message is (not yet) delivered, and what to do about it'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "stats" -d 'Print counts by state and type, and the age of the oldest unprocessed message'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "retry" -d 'Make failed or dead messages due now'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "skip" -d 'Give up on messages so the later messages of their ordering key go on (they stay, marked skipped)'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "purge" -d 'Delete processed messages older than a duration (never unprocessed, failing or dead ones)'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "replay" -d 'Deliver messages again: to their routes, or to one sink (a backfill)'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "audit" -d 'The audit trail: who retried, skipped or purged what, and when (newest first)'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "health" -d 'Check the outbox for monitors: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "dashboard" -d 'Serve the web dashboard: statistics, a throughput chart, message lists, details and actions'
complete -c outboxctl -n "__fish_outboxctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand init" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand init" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand init" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand init" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand init" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand init" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand init" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -f -a "user-registered" -d 'Register sample users: a Users row and a UserRegistered message, in one transaction each'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -f -a "event" -d 'Emit one event of any type with JSON content'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and not __fish_seen_subcommand_from user-registered event help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -l email -d 'Email of the user (unique); generated when omitted' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -l name -d 'Display name of the user' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -l count -d 'How many users to register (emails are generated)' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from user-registered" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -l key -d 'Ordering key (e.g. the aggregate\'s id): events with the same key are delivered one at a time, in the order they occurred' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -l traceparent -d 'W3C trace context of the caller (00-TRACEID-SPANID-FLAGS), carried to every destination' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -l tracestate -d 'W3C tracestate that goes with --traceparent (ignored without one, as W3C says)' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from event" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from help" -f -a "user-registered" -d 'Register sample users: a Users row and a UserRegistered message, in one transaction each'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from help" -f -a "event" -d 'Emit one event of any type with JSON content'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand emit; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand process-once" -l batch-size -d 'Messages to claim [default: 20, or batch_size in the config]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand process-once" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand process-once" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand process-once" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand process-once" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand process-once" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand process-once" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand process-once" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand process-once" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -l every -d 'Poll at least this often, e.g. 500ms, 10s, 1m [default: 60s, or every in the config]; new messages and due retries wake the relay sooner' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -l cron -d 'Process on a cron schedule instead (UTC), e.g. "* * * * *"' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -l batch-size -d 'Messages to claim per batch [default: 20, or batch_size in the config]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -l metrics-listen -d 'Serve /metrics (Prometheus) and /healthz on this address, e.g. 127.0.0.1:9187' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand run" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -l type -d 'Only this event type' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -l limit -d 'At most this many rows' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -l unprocessed -d 'Not processed yet, dead ones included (ProcessedOnUtc IS NULL), oldest first'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -l failed -d 'Currently failing, retrying or dead (Error IS NOT NULL), oldest first'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -l dead -d 'Out of attempts or permanently failed, oldest first'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -l processed -d 'Delivered, most recently processed first'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -l blocked -d 'Ordering keys held back by a failing or dead message: that message, its error, and how many wait behind it'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand list" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand show" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand show" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand show" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand show" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand show" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand show" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand show" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand explain" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand explain" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand explain" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand explain" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand explain" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand explain" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand explain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand explain" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand stats" -s o -l output -d 'Write to this file instead of stdout, atomically (a temporary file renamed into place), e.g. for node_exporter\'s textfile collector with --format prometheus' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand stats" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand stats" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand stats" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand stats" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand stats" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand stats" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand stats" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -l id -d 'These messages' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -l failed -d 'Every failing message that is not dead'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -l dead -d 'Every dead message (they get a fresh set of attempts)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -l dry-run -d 'Only count what would be retried'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand retry" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand skip" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand skip" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand skip" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand skip" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand skip" -l dry-run -d 'Only count what would be skipped'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand skip" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand skip" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand skip" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand skip" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -l older-than -d 'Age of processing past which a processed message is deleted, e.g. 7d, 12h' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -l dry-run -d 'Only count what would be deleted'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -s y -l yes -d 'Do not ask for confirmation (needed when stdin is not a terminal)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand purge" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l id -d 'These messages' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l type -d 'Only messages of these event types' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l key -d 'Only messages of this ordering key' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l since -d 'Occurred at or after this time (e.g. "2024-01-15 10:30:00") or this long ago (e.g. 7d)' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l until -d 'Occurred before this time, or this long ago' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l processed-since -d 'Processed at or after this time, or this long ago' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l processed-until -d 'Processed before this time, or this long ago' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l state -d 'Which messages: processed, dead, or all [default: processed; all with --id]' -r -f -a "processed\t''
dead\t''
all\t''"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l to -d 'Deliver only to this sink (e.g. a destination added today), not to the types\' routes' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l rate -d 'At most this many messages per second, e.g. 2000/s' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l batch-size -d 'Messages to claim per pass [default: 20, or batch_size in the config]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l new-delivery-id -d 'Send a fresh delivery id (webhook-id, Nats-Msg-Id, AMQP message_id, the Redis id field), the message id beside it, so a destination\'s dedup window does not swallow the replay'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -l dry-run -d 'Only count what would be replayed, and show the first few'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -s y -l yes -d 'Do not ask for confirmation (needed when stdin is not a terminal)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand replay" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand audit" -l since -d 'Only actions since this time (e.g. 2024-01-15 or "2024-01-15 10:30:00") or this long ago (e.g. 7d)' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand audit" -l limit -d 'At most this many rows' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand audit" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand audit" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand audit" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand audit" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand audit" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand audit" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand audit" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand completions" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand completions" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand completions" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand completions" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l max-lag -d 'CRITICAL when the oldest unprocessed (not dead) message is older than this, e.g. 5m' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l warn-lag -d 'WARNING when the oldest unprocessed (not dead) message is older than this, e.g. 1m' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l max-failed -d 'CRITICAL when more than N messages are failing and waiting for a retry (dead ones excluded)' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l warn-failed -d 'WARNING when more than N messages are failing and waiting for a retry' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l max-dead -d 'CRITICAL when more than N messages are dead (0: any dead message is critical)' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l warn-dead -d 'WARNING when more than N messages are dead' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l max-stall -d 'CRITICAL when messages are due and nothing was delivered for longer than this (messages waiting for a backoff or behind their key are not due)' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l max-blocked -d 'CRITICAL when more than N ordering keys are held back by a failing or dead message' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l warn-blocked -d 'WARNING when more than N ordering keys are held back' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l warn-circuits -d 'WARNING when more than N destinations have their circuit open (nothing is sent to them)' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l max-circuits -d 'CRITICAL when more than N destinations have their circuit open' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand health" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -l listen -d 'Address to listen on' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -l token-file -d 'File holding the access token (at least 16 characters) [default: env OUTBOX_DASHBOARD_TOKEN]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -l allow-host -d 'Also accept requests whose Host header names this host (e.g. a name behind a reverse proxy); IP addresses and localhost are always accepted' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -s d -l database -d 'SQLite database file (created with the schema if missing), or a postgres:// URL' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -s c -l config -d 'Config file [default: ./outboxctl.toml if it exists]' -r -F
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -l table -d 'Name of the outbox table [default: OutboxMessage]' -r
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -l format -d 'Output format of commands that print data' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition format (stats only)'"
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -l read-only -d 'Show everything, allow no action'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -s v -l verbose -d 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -s q -l quiet -d 'Only errors on stderr, and no summary on stdout for process-once'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand dashboard" -s V -l version -d 'Print version'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "init" -d 'Create or upgrade the outbox schema; adopts a table of the original design. Idempotent'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "emit" -d 'Write events into the outbox, each in one transaction with its business rows'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "process-once" -d 'Claim one batch of due messages, deliver them, record the outcomes, exit (for cron)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "run" -d 'Process batches in a loop until SIGINT or SIGTERM'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "list" -d 'List messages (default: unprocessed, oldest first)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "show" -d 'Show every field of one message, its full content and its error history'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "explain" -d 'Say in one sentence why a message is (not yet) delivered, and what to do about it'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "stats" -d 'Print counts by state and type, and the age of the oldest unprocessed message'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "retry" -d 'Make failed or dead messages due now'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "skip" -d 'Give up on messages so the later messages of their ordering key go on (they stay, marked skipped)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "purge" -d 'Delete processed messages older than a duration (never unprocessed, failing or dead ones)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "replay" -d 'Deliver messages again: to their routes, or to one sink (a backfill)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "audit" -d 'The audit trail: who retried, skipped or purged what, and when (newest first)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "completions" -d 'Print a shell completion script'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "health" -d 'Check the outbox for monitors: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "dashboard" -d 'Serve the web dashboard: statistics, a throughput chart, message lists, details and actions'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and not __fish_seen_subcommand_from init emit process-once run list show explain stats retry skip purge replay audit completions health dashboard help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and __fish_seen_subcommand_from emit" -f -a "user-registered" -d 'Register sample users: a Users row and a UserRegistered message, in one transaction each'
complete -c outboxctl -n "__fish_outboxctl_using_subcommand help; and __fish_seen_subcommand_from emit" -f -a "event" -d 'Emit one event of any type with JSON content'
