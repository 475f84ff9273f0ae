/**
 * @module cli/usage
 * The help text of `opencts` and of each command (printed by `--help`, and on stderr after a usage
 * error).
 */

export const MAIN_USAGE = `Usage: opencts <command> [options]

OpenCTS, an open-source Cloud Trace Service (CTS-compatible audit trail).

Commands:
  serve     run the OpenCTS server
  ingest    send traces from a file (JSON lines, JSON array or {"traces": [...]}) to a server
  query     list traces with any ListTraces filter, as a table, JSON or CSV

Run "opencts <command> --help" for the options of a command.
  -h, --help       show this help
  -v, --version    show the version
`

export const SERVE_USAGE = `Usage: opencts serve [options]

Runs the OpenCTS server until SIGINT (Ctrl+C) or SIGTERM, then closes it gracefully.
It keeps an SQLite file and a local object folder under the data directory.

Options (each also from an environment variable):
  --host HOST         address to listen on (OPENCTS_HOST, default 127.0.0.1)
  --port PORT         TCP port, 0 for any free port (OPENCTS_PORT, default 8088)
  --data-dir DIR      data directory (OPENCTS_DATA_DIR, default ./.opencts)
  --region REGION     region name (OPENCTS_REGION, default local-1)
  --log-level LEVEL   request log on stdout: fatal|error|warn|info|debug|silent
                      (OPENCTS_LOG_LEVEL, default info)
  -h, --help          show this help

Other settings: OPENCTS_RETENTION_DAYS (7), OPENCTS_PURGE_INTERVAL_MS (60000),
OPENCTS_SQLITE_SYNCHRONOUS (NORMAL|FULL).

Exit status: 0 after a graceful stop, 1 if the server cannot start (e.g. port in use),
2 on an invalid option or setting.
`

export const INGEST_USAGE = `Usage: opencts ingest FILE|- [options]

Sends traces to POST /v3/{project}/traces in batches of up to 1,000 traces and under 12 MB.
FILE (or - for stdin) holds JSON lines (one trace per line), a JSON array of traces, or an
object {"traces": [...]}. Each batch is stored all or nothing; the first rejected batch stops
the command (batches before it stay stored). Re-sending a trace with the same trace_id does
not store it twice.

Options:
  -p, --project ID      project ID (OPENCTS_PROJECT_ID; required)
  -e, --endpoint URL    API endpoint (OPENCTS_ENDPOINT, default http://127.0.0.1:8088)
      --batch-size N    traces per request, 1-1000 (default 1000)
  -q, --quiet           print only the count, not the trace ids
      --shift-to-now    move all trace times by one offset so the newest is 1 s ago
                        (for sample files and replays; reads the whole input first)
  -h, --help            show this help

Output: a line "Stored N traces in B batches." then the trace ids, one per line.
A progress line is drawn on stderr when it is a terminal.
Exit status: 0 when every trace is stored, 1 on an API error (its error_code and error_msg
are printed) or unreadable input, 2 on an invalid option.
`

export const QUERY_USAGE = `Usage: opencts query [options]

Lists traces (GET /v3/{project}/traces), newest first.

Filters (exact, case-sensitive; --trace-id overrides all others):
  --trace-type system|data     --tracker-name NAME        --service-type IMS
  --resource-type TYPE         --resource-id ID           --resource-name NAME
  --trace-name NAME            --trace-rating normal|warning|incident
  --user NAME                  --trace-id ID              --access-key-id AK
  --enterprise-project-id ID
Time window (exclusive bounds; default the last hour; only the last 7 days are kept):
  --from TIME   --to TIME      13-digit epoch ms, ISO-8601 (2026-01-01, 2026-01-01T10:00:00Z;
                               without an offset: local time), or relative: 15m, 2h, 3d, 1w, now
Paging:
  --limit N      page size, 1-200 (API default 10; 200 when following pages)
  --next MARKER  start after this marker (meta_data.marker of an earlier page)
  --max N        follow pages until N traces
  --all          follow pages until the last (marker null)
Output:
  --format table|json|csv      table (default): time, trace name, rating, service, resource
                               type/id/name, user, code; json: the API traces as a JSON array;
                               csv: RFC 4180 with a header row, values verbatim
Connection:
  -p, --project ID    project ID (OPENCTS_PROJECT_ID; required)
  -e, --endpoint URL  API endpoint (OPENCTS_ENDPOINT, default http://127.0.0.1:8088)
  -h, --help          show this help

When more traces match than were printed, the marker to continue with is printed on stderr.
Exit status: 0 on success, 1 on an API error (its error_code and error_msg are printed),
2 on an invalid option.
`
