
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'outboxctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'outboxctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'outboxctl' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create or upgrade the outbox schema; adopts a table of the original design. Idempotent')
            [CompletionResult]::new('emit', 'emit', [CompletionResultType]::ParameterValue, 'Write events into the outbox, each in one transaction with its business rows')
            [CompletionResult]::new('process-once', 'process-once', [CompletionResultType]::ParameterValue, 'Claim one batch of due messages, deliver them, record the outcomes, exit (for cron)')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Process batches in a loop until SIGINT or SIGTERM')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List messages (default: unprocessed, oldest first)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every field of one message, its full content and its error history')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Say in one sentence why a message is (not yet) delivered, and what to do about it')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Print counts by state and type, and the age of the oldest unprocessed message')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Make failed or dead messages due now')
            [CompletionResult]::new('skip', 'skip', [CompletionResultType]::ParameterValue, 'Give up on messages so the later messages of their ordering key go on (they stay, marked skipped)')
            [CompletionResult]::new('purge', 'purge', [CompletionResultType]::ParameterValue, 'Delete processed messages older than a duration (never unprocessed, failing or dead ones)')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Deliver messages again: to their routes, or to one sink (a backfill)')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'The audit trail: who retried, skipped or purged what, and when (newest first)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Check the outbox for monitors: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
            [CompletionResult]::new('dashboard', 'dashboard', [CompletionResultType]::ParameterValue, 'Serve the web dashboard: statistics, a throughput chart, message lists, details and actions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'outboxctl;init' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;emit' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('user-registered', 'user-registered', [CompletionResultType]::ParameterValue, 'Register sample users: a Users row and a UserRegistered message, in one transaction each')
            [CompletionResult]::new('event', 'event', [CompletionResultType]::ParameterValue, 'Emit one event of any type with JSON content')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'outboxctl;emit;user-registered' {
            [CompletionResult]::new('--email', '--email', [CompletionResultType]::ParameterName, 'Email of the user (unique); generated when omitted')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Display name of the user')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'How many users to register (emails are generated)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;emit;event' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Ordering key (e.g. the aggregate''s id): events with the same key are delivered one at a time, in the order they occurred')
            [CompletionResult]::new('--traceparent', '--traceparent', [CompletionResultType]::ParameterName, 'W3C trace context of the caller (00-TRACEID-SPANID-FLAGS), carried to every destination')
            [CompletionResult]::new('--tracestate', '--tracestate', [CompletionResultType]::ParameterName, 'W3C tracestate that goes with --traceparent (ignored without one, as W3C says)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;emit;help' {
            [CompletionResult]::new('user-registered', 'user-registered', [CompletionResultType]::ParameterValue, 'Register sample users: a Users row and a UserRegistered message, in one transaction each')
            [CompletionResult]::new('event', 'event', [CompletionResultType]::ParameterValue, 'Emit one event of any type with JSON content')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'outboxctl;emit;help;user-registered' {
            break
        }
        'outboxctl;emit;help;event' {
            break
        }
        'outboxctl;emit;help;help' {
            break
        }
        'outboxctl;process-once' {
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Messages to claim [default: 20, or batch_size in the config]')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;run' {
            [CompletionResult]::new('--every', '--every', [CompletionResultType]::ParameterName, 'Poll at least this often, e.g. 500ms, 10s, 1m [default: 60s, or every in the config]; new messages and due retries wake the relay sooner')
            [CompletionResult]::new('--cron', '--cron', [CompletionResultType]::ParameterName, 'Process on a cron schedule instead (UTC), e.g. "* * * * *"')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Messages to claim per batch [default: 20, or batch_size in the config]')
            [CompletionResult]::new('--metrics-listen', '--metrics-listen', [CompletionResultType]::ParameterName, 'Serve /metrics (Prometheus) and /healthz on this address, e.g. 127.0.0.1:9187')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;list' {
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Only this event type')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many rows')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--unprocessed', '--unprocessed', [CompletionResultType]::ParameterName, 'Not processed yet, dead ones included (ProcessedOnUtc IS NULL), oldest first')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'Currently failing, retrying or dead (Error IS NOT NULL), oldest first')
            [CompletionResult]::new('--dead', '--dead', [CompletionResultType]::ParameterName, 'Out of attempts or permanently failed, oldest first')
            [CompletionResult]::new('--processed', '--processed', [CompletionResultType]::ParameterName, 'Delivered, most recently processed first')
            [CompletionResult]::new('--blocked', '--blocked', [CompletionResultType]::ParameterName, 'Ordering keys held back by a failing or dead message: that message, its error, and how many wait behind it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;show' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;explain' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;stats' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout, atomically (a temporary file renamed into place), e.g. for node_exporter''s textfile collector with --format prometheus')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout, atomically (a temporary file renamed into place), e.g. for node_exporter''s textfile collector with --format prometheus')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;retry' {
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'These messages')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'Every failing message that is not dead')
            [CompletionResult]::new('--dead', '--dead', [CompletionResultType]::ParameterName, 'Every dead message (they get a fresh set of attempts)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Only count what would be retried')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;skip' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Only count what would be skipped')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;purge' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Age of processing past which a processed message is deleted, e.g. 7d, 12h')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Only count what would be deleted')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (needed when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (needed when stdin is not a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;replay' {
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'These messages')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Only messages of these event types')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Only messages of this ordering key')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Occurred at or after this time (e.g. "2024-01-15 10:30:00") or this long ago (e.g. 7d)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Occurred before this time, or this long ago')
            [CompletionResult]::new('--processed-since', '--processed-since', [CompletionResultType]::ParameterName, 'Processed at or after this time, or this long ago')
            [CompletionResult]::new('--processed-until', '--processed-until', [CompletionResultType]::ParameterName, 'Processed before this time, or this long ago')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Which messages: processed, dead, or all [default: processed; all with --id]')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Deliver only to this sink (e.g. a destination added today), not to the types'' routes')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'At most this many messages per second, e.g. 2000/s')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Messages to claim per pass [default: 20, or batch_size in the config]')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--new-delivery-id', '--new-delivery-id', [CompletionResultType]::ParameterName, 'Send a fresh delivery id (webhook-id, Nats-Msg-Id, AMQP message_id, the Redis id field), the message id beside it, so a destination''s dedup window does not swallow the replay')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Only count what would be replayed, and show the first few')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (needed when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (needed when stdin is not a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;audit' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only actions since this time (e.g. 2024-01-15 or "2024-01-15 10:30:00") or this long ago (e.g. 7d)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many rows')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;completions' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;health' {
            [CompletionResult]::new('--max-lag', '--max-lag', [CompletionResultType]::ParameterName, 'CRITICAL when the oldest unprocessed (not dead) message is older than this, e.g. 5m')
            [CompletionResult]::new('--warn-lag', '--warn-lag', [CompletionResultType]::ParameterName, 'WARNING when the oldest unprocessed (not dead) message is older than this, e.g. 1m')
            [CompletionResult]::new('--max-failed', '--max-failed', [CompletionResultType]::ParameterName, 'CRITICAL when more than N messages are failing and waiting for a retry (dead ones excluded)')
            [CompletionResult]::new('--warn-failed', '--warn-failed', [CompletionResultType]::ParameterName, 'WARNING when more than N messages are failing and waiting for a retry')
            [CompletionResult]::new('--max-dead', '--max-dead', [CompletionResultType]::ParameterName, 'CRITICAL when more than N messages are dead (0: any dead message is critical)')
            [CompletionResult]::new('--warn-dead', '--warn-dead', [CompletionResultType]::ParameterName, 'WARNING when more than N messages are dead')
            [CompletionResult]::new('--max-stall', '--max-stall', [CompletionResultType]::ParameterName, 'CRITICAL when messages are due and nothing was delivered for longer than this (messages waiting for a backoff or behind their key are not due)')
            [CompletionResult]::new('--max-blocked', '--max-blocked', [CompletionResultType]::ParameterName, 'CRITICAL when more than N ordering keys are held back by a failing or dead message')
            [CompletionResult]::new('--warn-blocked', '--warn-blocked', [CompletionResultType]::ParameterName, 'WARNING when more than N ordering keys are held back')
            [CompletionResult]::new('--warn-circuits', '--warn-circuits', [CompletionResultType]::ParameterName, 'WARNING when more than N destinations have their circuit open (nothing is sent to them)')
            [CompletionResult]::new('--max-circuits', '--max-circuits', [CompletionResultType]::ParameterName, 'CRITICAL when more than N destinations have their circuit open')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;dashboard' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the access token (at least 16 characters) [default: env OUTBOX_DASHBOARD_TOKEN]')
            [CompletionResult]::new('--allow-host', '--allow-host', [CompletionResultType]::ParameterName, 'Also accept requests whose Host header names this host (e.g. a name behind a reverse proxy); IP addresses and localhost are always accepted')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'SQLite database file (created with the schema if missing), or a postgres:// URL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./outboxctl.toml if it exists]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Name of the outbox table [default: OutboxMessage]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--read-only', '--read-only', [CompletionResultType]::ParameterName, 'Show everything, allow no action')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr, and no summary on stdout for process-once')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'outboxctl;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create or upgrade the outbox schema; adopts a table of the original design. Idempotent')
            [CompletionResult]::new('emit', 'emit', [CompletionResultType]::ParameterValue, 'Write events into the outbox, each in one transaction with its business rows')
            [CompletionResult]::new('process-once', 'process-once', [CompletionResultType]::ParameterValue, 'Claim one batch of due messages, deliver them, record the outcomes, exit (for cron)')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Process batches in a loop until SIGINT or SIGTERM')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List messages (default: unprocessed, oldest first)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every field of one message, its full content and its error history')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Say in one sentence why a message is (not yet) delivered, and what to do about it')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Print counts by state and type, and the age of the oldest unprocessed message')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Make failed or dead messages due now')
            [CompletionResult]::new('skip', 'skip', [CompletionResultType]::ParameterValue, 'Give up on messages so the later messages of their ordering key go on (they stay, marked skipped)')
            [CompletionResult]::new('purge', 'purge', [CompletionResultType]::ParameterValue, 'Delete processed messages older than a duration (never unprocessed, failing or dead ones)')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Deliver messages again: to their routes, or to one sink (a backfill)')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'The audit trail: who retried, skipped or purged what, and when (newest first)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Check the outbox for monitors: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
            [CompletionResult]::new('dashboard', 'dashboard', [CompletionResultType]::ParameterValue, 'Serve the web dashboard: statistics, a throughput chart, message lists, details and actions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'outboxctl;help;init' {
            break
        }
        'outboxctl;help;emit' {
            [CompletionResult]::new('user-registered', 'user-registered', [CompletionResultType]::ParameterValue, 'Register sample users: a Users row and a UserRegistered message, in one transaction each')
            [CompletionResult]::new('event', 'event', [CompletionResultType]::ParameterValue, 'Emit one event of any type with JSON content')
            break
        }
        'outboxctl;help;emit;user-registered' {
            break
        }
        'outboxctl;help;emit;event' {
            break
        }
        'outboxctl;help;process-once' {
            break
        }
        'outboxctl;help;run' {
            break
        }
        'outboxctl;help;list' {
            break
        }
        'outboxctl;help;show' {
            break
        }
        'outboxctl;help;explain' {
            break
        }
        'outboxctl;help;stats' {
            break
        }
        'outboxctl;help;retry' {
            break
        }
        'outboxctl;help;skip' {
            break
        }
        'outboxctl;help;purge' {
            break
        }
        'outboxctl;help;replay' {
            break
        }
        'outboxctl;help;audit' {
            break
        }
        'outboxctl;help;completions' {
            break
        }
        'outboxctl;help;health' {
            break
        }
        'outboxctl;help;dashboard' {
            break
        }
        'outboxctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
