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
  stats     count matching traces grouped by fields, with distinct counts and per interval
  resource-history  who created, changed, shared and deleted one resource, and its events
  deliveries  list key-event notification deliveries (and dead letters), redeliver them
  alarms    manage alarm rules on trace counts (> N in a window), their states and history
  insights  list the insights found: unusual call/error rates, denied bursts, high-risk operations
  record    record an HTTP API as traces through a reverse proxy (route maps: ims, glance, s3)
  admin     manage accounts, projects, users, access keys and policies of a data directory
  keys      manage the trace file encryption keys and digest signing keys of a data directory
  verify    check a bucket's trace files and signed digests, a trace's proof against a saved
            checkpoint, saved checkpoints (forks, rewrites), or every leaf of the store
  log       save signed checkpoints, inclusion and consistency proofs and the log keys

ingest, query and stats need credentials: the first "opencts serve" writes the administrator's to
.opencts/credentials, which they read from the current folder (see "opencts query --help").

Run "opencts <command> --help" for the options of a command.
  -h, --help       show this help
  -v, --version    show the version
`

export const SERVE_USAGE = `Usage: opencts serve [options]

Runs the OpenCTS server until SIGINT (Ctrl+C) or SIGTERM, then closes it gracefully.
It keeps an SQLite file and a local object folder under the data directory, which it locks:
a second server on the same directory exits 1 naming the running one's PID (opencts admin,
keys and verify --store still work beside it). With --store postgres://… any number of
servers (each with its own data directory) share one database, master key and object store
(docs/postgres.md); background work runs on one of them at a time, under leases.

Options (each also from an environment variable):
  --host HOST         address to listen on (OPENCTS_HOST, default 127.0.0.1)
  --port PORT         TCP port, 0 for any free port (OPENCTS_PORT, default 8088)
  --data-dir DIR      data directory (OPENCTS_DATA_DIR, default ./.opencts)
  --store URL         the store: sqlite:FILE or postgres://user:password@host:port/database
                      (OPENCTS_STORE, default sqlite:<data-dir>/opencts.db)
  --store-pool-size N PostgreSQL connections of this server at most, 1-200
                      (OPENCTS_STORE_POOL_SIZE, default 10)
  --region REGION     region name (OPENCTS_REGION, default local-1)
  --log-level LEVEL   request log on stdout: fatal|error|warn|info|debug|silent
                      (OPENCTS_LOG_LEVEL, default info)
  --ingest-workers N  threads that parse and hash ingest batches, 0-64, 0: on the event loop
                      (OPENCTS_INGEST_WORKERS, default min(2, CPUs))
  -h, --help          show this help

Other settings: OPENCTS_RETENTION_DAYS (7), OPENCTS_PURGE_INTERVAL_MS (60000),
OPENCTS_SQLITE_SYNCHRONOUS (NORMAL|FULL).
Request limits (docs/api.md "Limits"): OPENCTS_MAX_INFLIGHT_BODY_BYTES (16777216: request
bodies in flight, beyond them 503), OPENCTS_HEADERS_TIMEOUT_MS (30000),
OPENCTS_REQUEST_TIMEOUT_MS (120000: the whole request, body included).
Verifiable log (docs/merkle.md): OPENCTS_MERKLE_LOG (true), OPENCTS_CHECKPOINT_INTERVAL_MS
(1000, at least 1000), OPENCTS_LOG_KEY_NAME (opencts).
Alarm rules (docs/alarms.md): OPENCTS_ALARM_INTERVAL (60: seconds between evaluations, 1-3600).
Log streams of trackers with LTS on (docs/log-streams.md), each off while empty:
OPENCTS_LOG_STREAM_OTLP_URL (http(s) URL of an OTLP/HTTP receiver),
OPENCTS_LOG_STREAM_SYSLOG (tcp://host:port or udp://host:port[?facility=local0]),
OPENCTS_LOG_STREAM_FILE (JSON-lines file); OPENCTS_LOG_STREAM_INTERVAL_MS (1000).
Insights (docs/insights.md): OPENCTS_INSIGHTS (true), OPENCTS_INSIGHTS_INTERVAL_MS (5000),
OPENCTS_INSIGHTS_BASELINE_MINUTES (60), OPENCTS_INSIGHTS_WARMUP_MINUTES (30),
OPENCTS_INSIGHTS_SIGMA (4), OPENCTS_INSIGHTS_MIN_CALLS (10), OPENCTS_INSIGHTS_MIN_ERRORS (5),
OPENCTS_INSIGHTS_DENIED_THRESHOLD (20), OPENCTS_INSIGHTS_MAX_SERIES (10000),
OPENCTS_INSIGHTS_HIGH_RISK (SERVICE:trace_name,...; none), OPENCTS_INSIGHTS_LATENESS_MS (30000).
Email notifications, off while OPENCTS_SMTP_HOST is empty: OPENCTS_SMTP_PORT (587),
OPENCTS_SMTP_SECURE (false), OPENCTS_SMTP_REQUIRE_TLS (false), OPENCTS_SMTP_USER and
OPENCTS_SMTP_PASSWORD (AUTH), OPENCTS_SMTP_FROM (opencts@localhost), OPENCTS_SMTP_CA_FILE.

Object storage (trace transfer, docs/transfer.md): buckets are folders under
OPENCTS_OBJECTS_DIR (default <data-dir>/objects) unless OPENCTS_S3_ENDPOINT names an
S3-compatible store (then OPENCTS_S3_ACCESS_KEY and OPENCTS_S3_SECRET_KEY are required;
OPENCTS_S3_REGION us-east-1, OPENCTS_S3_PATH_STYLE true). OPENCTS_TRANSFER_INTERVAL_MS (60000,
at least 1000), OPENCTS_DIGEST_PERIOD_SECONDS (3600), OPENCTS_SIGNING_KEY_ROTATION_DAYS (30).

Exit status: 0 after a graceful stop, 1 if the server cannot start (e.g. port in use, the
database unreachable or of a newer schema), 2 on an invalid option or setting.
`

const CONNECTION_HELP = `Connection and credentials (each from the first source that gives it):
  -p, --project ID         project ID, 32 hex (OPENCTS_PROJECT_ID, else project_id of the
                           profile; required)
  -e, --endpoint URL       API endpoint (OPENCTS_ENDPOINT, else endpoint of the profile, else
                           http://127.0.0.1:8088)
      --credentials FILE   credentials file (OPENCTS_CREDENTIALS_FILE; default
                           ~/.opencts/credentials, else ./.opencts/credentials, which
                           "opencts serve" writes on its first start)
      --profile NAME       profile of the file (OPENCTS_PROFILE, default "default")
      --access-key AK      sign requests with this access key; its secret key comes from
                           OPENCTS_SECRET_KEY or the profile (there is no --secret-key flag)
      --token TOKEN        send this IAM token (better OPENCTS_TOKEN: a flag shows in ps)
  The credential comes from the flags, else the environment (OPENCTS_ACCESS_KEY and
  OPENCTS_SECRET_KEY; OPENCTS_TOKEN; OPENCTS_ACCOUNT, OPENCTS_USER and OPENCTS_PASSWORD), else the
  profile (access_key and secret_key, else account, user and password); an access key wins over a
  token, a token over a password. A password signs in once (POST /v3/auth/tokens).
`

export const INGEST_USAGE = `Usage: opencts ingest FILE|- [options]

Sends traces to POST /v3/{project}/traces in batches of up to 1,000 traces and under 12 MB.
FILE (or - for stdin) holds JSON lines (one trace per line), a JSON array of traces, or an
object {"traces": [...]}. Each batch is stored all or nothing; the first rejected batch stops
the command (batches before it stay stored). Re-sending a trace with the same trace_id does
not store it twice.

Options:
      --batch-size N    traces per request, 1-1000 (default 1000)
  -q, --quiet           print only the count, not the trace ids
      --shift-to-now    move all trace times by one offset so the newest is 1 s ago
                        (for sample files and replays; reads the whole input first)
  -h, --help            show this help
${CONNECTION_HELP}
Output: a line "Stored N traces in B batches." then the trace ids, one per line.
A progress line is drawn on stderr when it is a terminal.
Exit status: 0 when every trace is stored, 1 on an API error (its error_code and error_msg
are printed; 401 wrong credentials, 403 no policy allows reporting traces) or unreadable input,
2 on an invalid option or no credentials.
`

export const DELIVERIES_USAGE = `Usage: opencts deliveries list [--status S] [--limit N] [--json]
       opencts deliveries redeliver ID...

Lists the key-event notification deliveries of a project, newest first, or sends deliveries again
(pending at once, attempts reset; receivers deduplicate on the delivery id).

Options:
  --status S       pending | delivered | dead (dead: the dead letters, past the last attempt)
  --limit N        1-1000 (default 100)
  --json           print the API answer as JSON
  -h, --help       show this help

${CONNECTION_HELP}
Exit status: 0 on success, 1 when the API refuses (e.g. unknown delivery), 2 on a usage error.
`

export const ALARMS_USAGE = `Usage: opencts alarms list [--json]
       opencts alarms create NAME --threshold N --period S [--comparison OP]
                             [--filter KEY=VALUE]... [--description TEXT] [--topic URN] [--disable]
       opencts alarms show ID [--json]
       opencts alarms update ID [--name NAME] [--threshold N] [--period S] [--comparison OP]
                             [--filter KEY=VALUE]... [--description TEXT] [--topic URN | --no-topic]
                             [--enable | --disable]
       opencts alarms delete ID
       opencts alarms history ID [--limit N] [--marker M] [--json]

Alarm rules count the traces matching a filter over a sliding window and go to "alarm" when
the count meets the condition (e.g. more than 10 image deletions in 300 s), back to "ok"
when it does not, and are "insufficient_data" for one period after they are created or
enabled. Every transition is recorded and sent to the rule's topic (docs/alarms.md).

Options:
  --filter KEY=VALUE   a ListTraces filter (trace_type, tracker_name, service_type,
                       resource_type, resource_id, resource_name, trace_name, trace_rating,
                       user, access_key_id) or q=SEARCH (docs/search.md); repeat for several;
                       on update replaces the filter
  --comparison OP      >, >=, < or <= (default >; quote it for the shell: --comparison '>=')
  --threshold N        whole number, 0-1000000000
  --period S           window in seconds, 60-86400
  --topic URN          topic notified of every transition (urn:smn:{region}:{project}:{name})
  --no-topic           (update) remove the topic
  --enable, --disable  evaluate the rule or not (re-enabling restarts it for one period)
  --limit N, --marker M  (history) page size 1-200 (default 20), and where to continue
  --json               print the API answer as JSON
  -h, --help           show this help

${CONNECTION_HELP}
Exit status: 0 on success, 1 when the API refuses (e.g. an invalid rule, an unknown ID),
2 on a usage error.
`

export const INSIGHTS_USAGE = `Usage: opencts insights [--type T] [--state S] [--service S] [--from T] [--to T]
                        [--limit N] [--json]

Lists the insights of a project, newest first (docs/insights.md): unusual call and error rates
per operation with their baseline, peak and top attributions, bursts of denied calls, first-time
high-risk operations.

Options:
  --type T         ApiCallRateInsight | ApiErrorRateInsight | DeniedBurstInsight |
                   HighRiskOperationInsight
  --state S        start | end
  --service S      only insights about this service, e.g. IMS
  --from T, --to T time bounds (as for query: 13-digit ms, ISO 8601, or 15m/2h/3d ago);
                   default the whole retention window
  --limit N        insights listed, 1-10000 (default 50; pages of 200 are followed)
  --json           print the insights as JSON
  -h, --help       show this help

${CONNECTION_HELP}
Exit status: 0 on success, 1 when the API refuses (e.g. an unknown --type: CTS.0300), 2 on a
usage error.
`

export const LOG_USAGE = `Usage: opencts log checkpoint [--tree-size N] [--json]
       opencts log proof --trace-id ID [--tree-size N]
       opencts log consistency --first M [--second N]
       opencts log keys

Fetches from the verifiable log of a project (GET /v3/{project}/log/..., action cts:log:get) what
a third party keeps to check it later, offline, with "opencts verify --proof" and
"opencts verify --checkpoints" (docs/verify.md). Prints to stdout; redirect it to a file.

Subcommands:
  checkpoint     the signed checkpoint note (text), the latest or of exactly --tree-size N
                 leaves; --json prints the API answer {"checkpoint": {..., "note"}} instead
  proof          the inclusion proof of a trace (JSON, with the stored trace), against the latest
                 checkpoint or the one of --tree-size N
  consistency    the proof that the tree of --first M leaves is a prefix of the tree of --second N
                 leaves (default: the latest checkpoint) (JSON)
  keys           the public keys of checkpoint signatures (JSON), for --log-keys FILE
  -h, --help     show this help

${CONNECTION_HELP}
Example:
  opencts log keys > log-keys.json
  opencts log checkpoint > checkpoint-1.txt
  opencts log proof --trace-id 3f1c... > proof.json
  opencts verify --proof proof.json --checkpoint checkpoint-1.txt --log-keys log-keys.json

Exit status: 0 on success, 1 when the API refuses (e.g. no checkpoint yet, unknown trace, log off),
2 on a usage error.
`

export const RECORD_USAGE = `Usage: opencts record --upstream URL [--map ims,glance] [--listen HOST:PORT] [options]

Runs a reverse proxy in front of an HTTP API and records its calls as traces: every request goes
to the upstream unchanged and the answer comes back unchanged; route maps say which trace each
call is (built in: ims, glance, s3; or a JSON map file, docs/recorder-maps.md). Traces are sent
in batches to an OpenCTS server with a producer credential (policy "CTS TraceReporter"), each
batch under the project its requests name (-p is the default); when OpenCTS is down the API keeps
answering, traces wait and retry, refusals are logged and kept, and every count is on
GET /_opencts/recorder.

Options:
  --upstream URL        the API to record (required)
  --map LIST            comma-separated map names or files (default ims,glance)
  --listen HOST:PORT    where the proxy listens (default 127.0.0.1:8089)
  --catch-all SERVICE   also record unmapped POST/PUT/PATCH/DELETE calls under this service type
  --record-reads        also record read-only routes (read_only: true)
  --default-project ID  project of requests whose identity headers name none (default: -p)
  --user-id-header H, --user-name-header H, --project-header H
                        read the operator and project from these headers instead
  --dead-letter DIR     keep batches OpenCTS refuses for good here (JSON lines, one file per
                        batch; replay: opencts ingest FILE -p PROJECT); default: held in memory
                        (10,000 traces at most) and retried
  -h, --help            show this help

Identity: X-User-Id, X-User-Name, X-User-Domain-Id, X-User-Domain-Name and X-Project-Id (or
X-Tenant-Id) of each request, as keystonemiddleware forwards them; the access key of an AK/SK
signature is recorded too.

${CONNECTION_HELP}`

export const QUERY_USAGE = `Usage: opencts query [options]

Lists traces (GET /v3/{project}/traces), newest first.

Filters (exact, case-sensitive; --trace-id overrides all others):
  --trace-type system|data     --tracker-name NAME        --service-type IMS
  --resource-type TYPE         --resource-id ID           --resource-name NAME
  --trace-name NAME            --trace-rating normal|warning|incident
  --user NAME                  --trace-id ID              --access-key-id AK
  --enterprise-project-id ID
  --q SEARCH                   a search: field:value, prefix*, field:(a OR b), code:>=400, NOT,
                               AND, OR, free text (docs/search.md), e.g. --q 'code:>=400 NOT user:admin'
Time window (exclusive bounds; default the last hour; only the last 7 days are kept):
  --from TIME   --to TIME      13-digit epoch ms, ISO-8601 (2026-01-01, 2026-01-01T10:00:00Z;
                               without an offset: local time), or relative: 15m, 2h, 3d, 1w, now
Paging:
  --limit N      page size, 1-200 (API default 10; 200 when following pages)
  --next MARKER  start after this marker (meta_data.marker of an earlier page)
  --max N        follow pages until N traces
  --all          follow pages until the last (marker null)
Output:
  --format FORMAT              table (default): time, trace name, rating, service, resource
                               type/id/name, user, code; json: the API traces as a JSON array;
                               csv: RFC 4180 with a header row, values verbatim; ocsf (OCSF API
                               Activity, 6003), cadf (CADF events), cef (ArcSight CEF lines), ecs
                               (Elastic Common Schema), splunk-hec (Splunk HEC events): the
                               export API's formats (docs/formats.md)
  -h, --help                   show this help
${CONNECTION_HELP}
When more traces match than were printed, the marker to continue with is printed on stderr.
Exit status: 0 on success, 1 on an API error (its error_code and error_msg are printed; 401
wrong credentials, 403 no policy allows listing traces), 2 on an invalid option or no credentials.
`

export const STATS_USAGE = `Usage: opencts stats [options]

Counts the traces that match (GET /v3/{project}/traces/statistics): in total, or grouped by
one or two fields, the --top groups largest first and the rest folded into one "other" row.

Grouping and counting (fields: service_type, resource_type, trace_name, user, source_ip,
trace_rating, code, access_key_id):
  -g, --group-by F[,F]   group by one or two fields (default: no groups, just the total)
      --distinct F       also count the distinct values of F in each group
      --interval D       also count per interval: 1s to 7d, e.g. 5m, 1h, 1d, or milliseconds;
                         intervals start at multiples of D since the epoch (UTC)
      --top N            groups printed, 1-1000 (default 10); the rest are "other"
Filters (exact, case-sensitive, as for "opencts query"):
  --trace-type system|data     --tracker-name NAME        --service-type IMS
  --resource-type TYPE         --resource-id ID           --resource-name NAME
  --trace-name NAME            --trace-rating normal|warning|incident
  --user NAME                  --access-key-id AK         --enterprise-project-id ID
  --q SEARCH                   a search: field:value, prefix*, NOT/AND/OR, free text
                               (e.g. --q 'trace_name:delete* AND NOT user:alice')
Time window (exclusive bounds; default the last hour; only the last 7 days are kept):
  --from TIME   --to TIME      13-digit epoch ms, ISO-8601 (2026-01-01, 2026-01-01T10:00:00Z;
                               without an offset: local time), or relative: 15m, 2h, 3d, 1w, now
Output:
  --json                       print the API's answer as JSON
  -h, --help                   show this help
${CONNECTION_HELP}
Output: a table with a row per group (its values, COUNT, DISTINCT F with --distinct, SHARE of
the total), a row "(other: K groups)" when more groups match than --top, then a line "Total: N
traces after FROM and before TO"; with --interval, then a line per group listing its
non-empty intervals as "START COUNT" (UTC). A trace without the field is in the group "(none)".
Exit status: 0 on success, 1 on an API error (its error_code and error_msg are printed, e.g. a
group field it does not know, too many intervals, a bad search; 403 no policy allows listing
traces), 2 on an invalid option or no credentials.
`

export const RESOURCE_HISTORY_USAGE = `Usage: opencts resource-history (--resource-id ID | --resource-name NAME) [options]

Prints the history of one resource across services (GET /v3/{project}/resources/history,
docs/resource-history.md): the summary over the window (traces and their span; who created, last
changed and deleted it, when and from where; traces per kind and failed; the operators) and a
page of its events newest first.

Options:
  --resource-id ID       the resource's id (exact) — or:
  --resource-name NAME   its name (exact, case-sensitive)
  --service-type S       only traces of this service    --resource-type T  only of this type
  --from TIME  --to TIME exclusive bounds (default the 7 days kept, to now); 13-digit epoch ms,
                         ISO-8601 or relative: 15m, 2h, 3d, 1w, now
  --limit N              events per page, 1-200 (default 50)
  --next MARKER          the page after this marker (printed on stderr when more events exist)
  --json                 print the API answer as JSON (with each event's request and response)
  -h, --help             show this help
${CONNECTION_HELP}
Exit status: 0 on success, 1 on an API error (its error_code and error_msg are printed), 2 on an
invalid option or no credentials.
`

export const ADMIN_USAGE = `Usage: opencts admin <command> [options]

Manages the identities of a store directly (a data directory's SQLite file, or the PostgreSQL
database of --store, and the master key), with no server needed; safe while servers run. Secrets (passwords, secret keys) are printed once, when
made; passwords are never taken as a flag value: give --password-stdin, or let one be generated.

Accounts and projects:
  account create NAME
  account list
  project create --account A NAME [--id 32HEX]
  project list [--account A]
Users (--account A names the user's account):
  user create --account A NAME [--password-stdin]     no password given: one is generated
  user list --account A                               with policies and access keys
  user password --account A NAME [--password-stdin]   also revokes the user's tokens
  user enable|disable|delete --account A NAME         disable and delete revoke tokens too
Access keys:
  key create --account A --user U [--description D]   prints the access key and secret key
  key list --account A --user U
  key enable|disable|delete AK
  credentials --account A --user U --project P [--profile NAME] [--endpoint URL]
                                    creates an access key and prints a credentials-file profile
                                    (for --credentials FILE); redirect it to a file
Policies and tokens:
  grant --account A --user U --policy NAME [--project NAME_OR_ID]   without --project: in every
  revoke --account A --user U --policy NAME [--project NAME_OR_ID]  project of the account
  policies                          the built-in policies, their type and actions
  tokens revoke --account A --user U
Store:
  migrate                           applies the schema migrations the store lacks (servers also
                                    do it at start) and prints its schema version; an SQLite row
                                    store is converted to blocks (resumable), with a progress bar

Options:
  --data-dir DIR      data directory (OPENCTS_DATA_DIR, default ./.opencts); must exist. The master
                      key file is DIR/master.key (OPENCTS_MASTER_KEY_FILE), or the key itself
                      is in OPENCTS_MASTER_KEY
  --store URL         the store: sqlite:FILE or postgres://user:password@host:port/database
                      (OPENCTS_STORE, default sqlite:DIR/opencts.db)
  --json              list, create and migrate commands: print JSON instead of a table
  --password-stdin    read the password from the first line of stdin
  -h, --help          show this help

Example: a read-only user with a ready credentials file
  opencts admin user create --account opencts auditor
  opencts admin grant --account opencts --user auditor --policy "CTS ReadOnlyAccess"
  opencts admin credentials --account opencts --user auditor --project local-1 > auditor.ini

Exit status: 0 on success, 1 when the command fails (e.g. no such account, name taken, no data
directory), 2 on an invalid option or value.
`

export const KEYS_USAGE = `Usage: opencts keys <command> [options]

Manages the keys of a data directory directly (its store and master key), with no server
needed; safe while the server runs. Key material is stored only sealed with the master key.

Encryption keys (a tracker's kms_id is a key's id; its trace files are encrypted under the key):
  create NAME                 a new key, version 1; NAME is 1-64 letters, digits, - _ or /
  list                        id, name, current version and version count (never material)
  rotate ID|NAME              adds a version that encrypts new files; old versions still decrypt
  export ID|NAME --out FILE   writes every version of the key in clear to a new FILE (mode 0600,
                              never overwritten), for "opencts verify --keys FILE"; keep it safe
  decrypt FILE --out OUT      opens an encrypted trace file with the key its header names, from
                              --keys KEYFILE (a file of "keys export") or else the data directory;
                              OUT gets the .json.gz/.json bytes (new file, mode 0600)
Digest signing keys (RSA 2048, SHA256withRSA; each valid over a window of time):
  signing-list                fingerprints and validity windows, oldest first
  signing-rotate              a new signing key, valid from now; the current one's window ends
  public --out FILE           writes the public keys as {"digest_keys":[...]}, like
                              GET /v3/{project_id}/digest-keys, for offline verification

Options:
  --data-dir DIR      data directory (OPENCTS_DATA_DIR, default ./.opencts); must exist. The master
                      key file is DIR/master.key (OPENCTS_MASTER_KEY_FILE), or the key itself
                      is in OPENCTS_MASTER_KEY
  --json              create, list, rotate, signing-list, signing-rotate: print JSON
  --out FILE          export, public, decrypt: the file to write
  --keys KEYFILE      decrypt: take the key from this key file instead of the data directory
  -h, --help          show this help

Exit status: 0 on success, 1 when the command fails (e.g. no such key, name taken, FILE exists, no
data directory), 2 on an invalid option or key name.
`

export const VERIFY_USAGE = `Usage: opencts verify --bucket B (--dir FOLDER | --s3-endpoint URL) --region R
                      --from TIME --public-keys FILE [options]
       opencts verify --proof PROOF.json --checkpoint CHECKPOINT.txt --log-keys KEYS.json [--json]
       opencts verify --checkpoints A.txt B.txt ... --log-keys KEYS.json
                      [--consistency-proofs P.json ...] [--offline] [connection] [--json]
       opencts verify --store DIR|FILE|URL [--log-keys KEYS.json] [--checkpoints FILE...] [--json]
                      (audit of a store, SQLite or PostgreSQL: "opencts verify --store --help")

Bucket mode: checks, offline, what a tracker delivered to a bucket: every digest ending in
(--from, --to] (signature, location, chain links, schedule), every trace file they list (present,
SHA-256, one gzip member with nothing appended, a JSON array), files in the folder that no digest
lists, missing digests (holes in the chain, counted; a missing tail) and, with --keys, the content
of encrypted files. Needs only read access to the bucket; no server.

Where the bucket is (one of):
  --dir FOLDER             a local object folder (FOLDER/BUCKET/KEY), e.g. <data dir>/objects
  --s3-endpoint URL        an S3-compatible service; credentials from OPENCTS_S3_ACCESS_KEY
                           (or --s3-access-key AK) and OPENCTS_S3_SECRET_KEY (no flag)
  --s3-region R            signing region (default us-east-1)
  --s3-path-style          path-style addressing (most self-hosted stores need it)
What to verify:
  --bucket B               the tracker's bucket (required)
  --region R               the region in the object keys (required)
  --tracker NAME           tracker name (default system)
  --prefix P               the tracker's file_prefix_name (default none)
  --project-id ID          32 hex; needed only when several projects deliver into the folder
  --from TIME  --to TIME   range (--to default now); 13-digit epoch ms, ISO-8601
                           (2026-01-01T10:00:00Z) or relative: 15m, 2h, 3d, now
  --grace DURATION         how late a digest may be written, e.g. 90s, 5m (default 5m)
Keys:
  --public-keys FILE       {"digest_keys":[...]}: the body of GET /v3/{project_id}/digest-keys,
                           or the file of "opencts keys public --out FILE" (required)
  --keys FILE              a key file of "opencts keys export": decrypt encrypted files and check
                           their content (without it, only their hashes are checked)
Output:
  --json                   print the report as JSON instead of lines
  -h, --help               show this help

Output: one line per digest and per trace file, "valid" or "INVALID: reason", chain findings and
pending files, then a summary (docs/verify.md lists every reason). A progress line is drawn on
stderr when it is a terminal.

Verifiable log modes (files saved with "opencts log", see "opencts log --help"):
  --log-keys FILE          the public checkpoint keys: the body of GET /v3/{project_id}/log/keys
                           ("opencts log keys"); required in both modes
  --proof FILE             a trace with its inclusion proof ("opencts log proof"): the leaf hash
                           is recomputed from the trace and must lead, through the audit path, to
                           the root of --checkpoint FILE, a signed note ("opencts log checkpoint")
                           of the trace's project and of the proof's tree size
  --checkpoints FILE...    signed notes: each signature is checked, two notes of one size with
                           different roots are a FORK, and each smaller tree must be a prefix of
                           the next larger one (consistency proofs)
  --consistency-proofs FILE...
                           saved consistency proofs ("opencts log consistency"); proofs not given
                           are fetched from the server of the connection options below
  --offline                never contact a server: a missing consistency proof is a finding
  Connection (--checkpoints without --offline): -e/--endpoint URL, --credentials FILE,
  --profile NAME, --access-key AK, --token TOKEN, as for "opencts query"; the project of each
  request is the origin of the checkpoints (there is no --project).
  Output: "valid" or "INVALID: reason" per trace, checkpoint, consistency pair and FORK; --json
  prints the report as JSON.

Exit status: 0 when everything is valid, 1 on any finding (or when the store or server cannot be
read), 2 on an invalid option, an unreadable or invalid keys file, or several projects without
--project-id.
`
