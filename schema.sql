-- The one database schema. The host applies it at start-up.
--
-- The file is a list of steps. Each step starts with a line "-- step N" and runs once, in a
-- transaction, on a database whose PRAGMA user_version is below N; user_version is then set to
-- N. An old database file therefore opens and is brought forward; never edit a step that has
-- shipped, add a new one.

-- step 1
CREATE TABLE jobs (
    -- AUTOINCREMENT: an id is never handed out twice, even after the newest job is deleted, so a
    -- worker still holding a deleted job's id can never touch a different job by mistake.
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name   TEXT    NOT NULL,
    crf         TEXT    NOT NULL,             -- canonical decimal text, as on the wire
    preset      TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending',
    started     INTEGER,                      -- unix seconds
    finished    INTEGER,                      -- unix seconds
    created_at  INTEGER NOT NULL              -- unix seconds
);
-- Serves the claim (status = 'pending' ORDER BY id LIMIT 1) and the filtered list
-- (status = ? ORDER BY id DESC) as index range scans, so both stay O(log n) at any depth.
CREATE INDEX jobs_by_status ON jobs (status, id);

-- step 2
-- A failed encode keeps why it failed: the worker's message and the tail of ffmpeg's stderr.
ALTER TABLE jobs ADD COLUMN error TEXT;
ALTER TABLE jobs ADD COLUMN log_tail TEXT;

-- step 3
-- Leases, fencing, retries, cancellation and priority.
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;        -- claims so far
ALTER TABLE jobs ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 3;
ALTER TABLE jobs ADD COLUMN claim_token TEXT;                            -- the current claim's secret
ALTER TABLE jobs ADD COLUMN lease_expires_at INTEGER;                    -- unix seconds, while in_progress
ALTER TABLE jobs ADD COLUMN available_at INTEGER NOT NULL DEFAULT 0;     -- not claimable before (retry backoff)
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN worker TEXT;
ALTER TABLE jobs ADD COLUMN progress REAL;
-- Jobs claimed before leases existed get one now, so none stays in_progress forever.
UPDATE jobs SET lease_expires_at = CAST(strftime('%s', 'now') AS INTEGER) + 14400, attempts = 1
WHERE status = 'in_progress';
-- The claim walks pending jobs in claim order: priority first, then age.
CREATE INDEX jobs_claim_order ON jobs (priority DESC, id) WHERE status = 'pending';
-- The lease keeper finds expired leases without scanning.
CREATE INDEX jobs_lease_expiry ON jobs (lease_expires_at) WHERE status = 'in_progress';

-- step 4
-- Live operations: the encode's speed and time left, from heartbeats, and the workers seen.
ALTER TABLE jobs ADD COLUMN speed REAL;
ALTER TABLE jobs ADD COLUMN eta_seconds INTEGER;
CREATE TABLE workers (
    name          TEXT PRIMARY KEY,
    last_seen_at  INTEGER NOT NULL,            -- unix seconds of the last claim or heartbeat
    lease_seconds INTEGER NOT NULL,            -- silent longer than this: lost
    jobs_finished INTEGER NOT NULL DEFAULT 0,
    jobs_failed   INTEGER NOT NULL DEFAULT 0
);
-- Statistics over recently finished jobs without scanning the table.
CREATE INDEX jobs_finished_at ON jobs (finished) WHERE finished IS NOT NULL;

-- step 5
-- Trustworthy results: every job names its output, and two live jobs never share one.
ALTER TABLE jobs ADD COLUMN output_name TEXT;               -- relative to the worker's output root
ALTER TABLE jobs ADD COLUMN overwrite INTEGER NOT NULL DEFAULT 0;
-- The step the current claim's worker last took (finish, fail, retryable fail, release, cancel): the
-- same step repeated with the same token is answered with the job, anything else with 409.
ALTER TABLE jobs ADD COLUMN claim_step TEXT;
-- Existing jobs get the name their worker used: the input's path with its extension replaced by
-- .mp4 (FileNames.DefaultOutputName in SQL: d = the folders, s = the file, e = s up to its last dot).
UPDATE jobs SET output_name = (
    SELECT d || CASE WHEN length(e) > 1 THEN substr(s, 1, length(e) - 1) ELSE s END || '.mp4'
    FROM (SELECT d, s, rtrim(s, replace(s, '.', '')) AS e
          FROM (SELECT d, substr(p, length(d) + 1) AS s
                FROM (SELECT p, rtrim(p, replace(p, '/', '')) AS d
                      FROM (SELECT replace(jobs.file_name, '\', '/') AS p)))));
-- Live jobs that shared a name before this step (the bug it fixes) are told apart by their id.
UPDATE jobs SET output_name = substr(output_name, 1, length(output_name) - 4) || ' (job ' || id || ').mp4'
WHERE status IN ('pending', 'in_progress') AND EXISTS (
    SELECT 1 FROM jobs AS earlier
    WHERE earlier.status IN ('pending', 'in_progress') AND earlier.id < jobs.id
      AND earlier.output_name = jobs.output_name COLLATE NOCASE);
-- The guarantee itself, and the lookup that keeps enqueue from hitting it: no two live jobs share an
-- output (compared without letter case, as on Windows and macOS file systems).
CREATE UNIQUE INDEX jobs_live_output ON jobs (output_name COLLATE NOCASE) WHERE status IN ('pending', 'in_progress');
-- Jobs in retry backoff, so the lease keeper can wake a waiting claim when each backoff ends.
CREATE INDEX jobs_backoff ON jobs (available_at) WHERE status = 'pending' AND available_at > 0;
-- Idempotency-Key of POST /api/jobs: a repeat within 24 hours answers the jobs the first request created.
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,                -- SHA-256 of the request body: the same key with another body is refused
    job_ids      TEXT NOT NULL,                -- the created jobs' ids, comma-separated
    created_at   INTEGER NOT NULL              -- unix seconds
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- step 6
-- Keys with roles (Auth/): many named keys, stored as the SHA-256 of the secret (the secret is 256
-- random bits, so a fast hash suffices; it is shown once, at creation). A revoked key's row is deleted.
CREATE TABLE api_keys (
    name         TEXT PRIMARY KEY,
    role         TEXT    NOT NULL,             -- admin, submit, worker or read
    key_hash     TEXT    NOT NULL UNIQUE,      -- lower-case hex SHA-256 of the key
    created_at   INTEGER NOT NULL,             -- unix seconds
    created_by   TEXT,                         -- the key that created it
    last_used_at INTEGER                       -- unix seconds, written at most once a minute per key
);
-- Who did what (Audit/): people's actions on jobs, key and queue changes, with the key's name.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,                 -- unix seconds
    key_name TEXT    NOT NULL,
    action   TEXT    NOT NULL,                 -- e.g. job.delete, key.create, queue.pause
    target   TEXT,                             -- e.g. the job's id or the key's name
    detail   TEXT
);
-- The key that enqueued each job (null for jobs from before keys had names).
ALTER TABLE jobs ADD COLUMN created_by TEXT;

-- step 7
-- Webhooks (Webhooks/): who is told of which job events. events holds the subscribed names between
-- commas (",job.finished,job.failed,"). The secret signs each delivery, so it is kept as given (never listed).
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,               -- unix seconds
    created_by TEXT                            -- the key that created it
);
-- The outbox: one row per webhook and job event, written in the transaction of the job change, so a
-- crash keeps both or neither; the dispatcher of any host sends it, retrying until delivered or dead.
-- No foreign key to webhooks: on PostgreSQL a job change may race a webhook's deletion, and must not
-- fail for it; a row whose webhook is gone is never sent and is forgotten by the upkeep.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       INTEGER NOT NULL,
    event            TEXT    NOT NULL,         -- e.g. job.finished
    job_id           INTEGER,
    body             TEXT    NOT NULL,         -- the JSON posted, fixed when the change committed
    status           TEXT    NOT NULL DEFAULT 'pending',   -- pending, delivered or dead
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,         -- unix seconds
    next_attempt_at  INTEGER NOT NULL,         -- unix seconds; when a pending delivery is due
    locked_until     INTEGER NOT NULL DEFAULT 0,   -- a dispatcher's lease on the attempt it is making (unix seconds)
    last_status_code INTEGER,                  -- the receiver's last HTTP status, null when it could not be reached
    last_error       TEXT,
    delivered_at     INTEGER                   -- unix seconds
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);

-- step 8
-- Pausing the queue and draining workers (Queue/). One row says whether the queue is paused —
-- claims get nothing while running jobs go on — since when and by which key; it lives here, not in
-- memory, so it survives a restart. A draining worker finishes its running jobs and claims no more;
-- only a person lifts it (a worker drained for maintenance must not undo it by restarting).
CREATE TABLE queue_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    paused    INTEGER NOT NULL DEFAULT 0,      -- 1: claims answer 404 until resumed
    paused_at INTEGER,                         -- unix seconds
    paused_by TEXT                             -- the key's name
);
INSERT INTO queue_state (id, paused) VALUES (1, 0);
-- 1: finish the running jobs, claim no more. A worker drained before its first claim gets its row
-- then, with last_seen_at 0 (never seen).
ALTER TABLE workers ADD COLUMN draining INTEGER NOT NULL DEFAULT 0;

-- step 9
-- Retention (Jobs/JobRetention.cs) deletes the audit trail's oldest entries by age, a batch at a time.
CREATE INDEX audit_log_age ON audit_log (at);
-- Ended jobs without an end time (none of the host's own steps leaves one, but a file edited by hand
-- may hold some) age from their creation: this index holds only those, so it is empty and free to keep.
CREATE INDEX jobs_ended_unstamped ON jobs (created_at)
WHERE finished IS NULL AND status IN ('finished', 'failed', 'cancelled');

-- step 10
-- Media in the host's store (Uploads/): files sent with tus 1.0 — a person's inputs, a worker's
-- results — for workers that share no folder with anyone. The row is written before the file, and
-- an upload counts as complete only once its bytes are fsynced and renamed into place.
CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,             -- 32 random hex digits: the last segment of its Location
    length       INTEGER NOT NULL,             -- Upload-Length: the whole file, in bytes
    received     INTEGER NOT NULL DEFAULT 0,   -- bytes stored durably so far: the Upload-Offset a HEAD answers
    file_name    TEXT    NOT NULL,             -- the tus metadata "filename", made safe; shown and offered on download
    content_type TEXT,                         -- the tus metadata "filetype", when it is a plausible media type
    metadata     TEXT,                         -- the Upload-Metadata header as sent, which a HEAD answers
    sha256       TEXT,                         -- lower-case hex of the whole file, once complete
    created_at   INTEGER NOT NULL,             -- unix seconds
    expires_at   INTEGER NOT NULL,             -- unix seconds; unfinished by then, it is swept
    completed_at INTEGER,                      -- unix seconds; null while bytes are missing
    created_by   TEXT                          -- the key that created it
);
CREATE INDEX uploads_unfinished ON uploads (expires_at) WHERE completed_at IS NULL;
CREATE INDEX uploads_completed ON uploads (completed_at) WHERE completed_at IS NOT NULL;
-- A job whose input is an upload (input_upload; null: a file under the workers' shared --input),
-- and the upload its worker delivered the result as. The sizes and the input's hash are copied onto
-- the job, so a list shows them and a worker can check its download without another lookup.
ALTER TABLE jobs ADD COLUMN input_upload TEXT;
ALTER TABLE jobs ADD COLUMN input_sha256 TEXT;
ALTER TABLE jobs ADD COLUMN input_bytes INTEGER;
ALTER TABLE jobs ADD COLUMN output_upload TEXT;
ALTER TABLE jobs ADD COLUMN output_bytes INTEGER;
-- What the worker is doing: downloading, encoding or uploading (from heartbeats, cleared as progress is).
ALTER TABLE jobs ADD COLUMN phase TEXT;
-- A worker without a folder claims only store jobs, and walks this partial index of them, so its claim
-- stays O(log n) however many shared-folder jobs wait. Shared-folder jobs get no index of their own
-- (a second claim index on every enqueued job cost a bulk enqueue about 9 %): a claim for them only
-- (every client older than the store) walks jobs_claim_order and steps over the store jobs ahead.
CREATE INDEX jobs_claim_store ON jobs (priority DESC, id) WHERE status = 'pending' AND input_upload IS NOT NULL;
-- The sweep keeps every upload a job still refers to.
CREATE INDEX jobs_by_input_upload ON jobs (input_upload) WHERE input_upload IS NOT NULL;
CREATE INDEX jobs_by_output_upload ON jobs (output_upload) WHERE output_upload IS NOT NULL;
-- step 11
-- Search by file name (GET /api/jobs?q=…): a trigram full-text index, so a substring of three or
-- more characters is found from the index at any depth, letter case ignored. Contentless: it keeps
-- only the trigrams, keyed by the job's id (its rowid), and never a copy of the names. Triggers keep
-- it in step with jobs, whoever writes (the host, `migrate`, a hand edit). A contentless table
-- forgets a row only when told the values it was given, hence the old file_name in each delete.
CREATE VIRTUAL TABLE jobs_search USING fts5(file_name_trigrams, content = '', tokenize = 'trigram');
INSERT INTO jobs_search (rowid, file_name_trigrams) SELECT id, file_name FROM jobs;
CREATE TRIGGER jobs_search_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO jobs_search (rowid, file_name_trigrams) VALUES (new.id, new.file_name);
END;
CREATE TRIGGER jobs_search_delete AFTER DELETE ON jobs BEGIN
    INSERT INTO jobs_search (jobs_search, rowid, file_name_trigrams) VALUES ('delete', old.id, old.file_name);
END;
CREATE TRIGGER jobs_search_rename AFTER UPDATE OF file_name ON jobs BEGIN
    INSERT INTO jobs_search (jobs_search, rowid, file_name_trigrams) VALUES ('delete', old.id, old.file_name);
    INSERT INTO jobs_search (rowid, file_name_trigrams) VALUES (new.id, new.file_name);
END;
-- step 12
-- The search index off the enqueue path: indexing a name inside the writer's transaction cost each
-- enqueue most of its speed (a bare insert loop fell from ~155k to 14-23k rows/s), so a new job only
-- records its id in jobs_search_backlog (a cheap rowid insert) and SearchIndexer moves the backlog
-- into jobs_search in small batches soon after. A search reads both, so it is exact meanwhile.
-- A contentless table told to forget a row it never held corrupts itself, so a job still in the
-- backlog is forgotten there instead, and a renamed one simply stays there until it is indexed.
CREATE TABLE jobs_search_backlog (id INTEGER PRIMARY KEY);
DROP TRIGGER jobs_search_insert;
DROP TRIGGER jobs_search_delete;
DROP TRIGGER jobs_search_rename;
CREATE TRIGGER jobs_search_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO jobs_search_backlog (id) VALUES (new.id);
END;
CREATE TRIGGER jobs_search_delete AFTER DELETE ON jobs BEGIN
    INSERT INTO jobs_search (jobs_search, rowid, file_name_trigrams)
    SELECT 'delete', old.id, old.file_name WHERE NOT EXISTS (SELECT 1 FROM jobs_search_backlog WHERE id = old.id);
    DELETE FROM jobs_search_backlog WHERE id = old.id;
END;
CREATE TRIGGER jobs_search_rename AFTER UPDATE OF file_name ON jobs
WHEN NOT EXISTS (SELECT 1 FROM jobs_search_backlog WHERE id = new.id) BEGIN
    INSERT INTO jobs_search (jobs_search, rowid, file_name_trigrams) VALUES ('delete', old.id, old.file_name);
    INSERT INTO jobs_search (rowid, file_name_trigrams) VALUES (new.id, new.file_name);
END;
-- step 13
-- Encode settings (EncodeSettings, as wire JSON): a job keeps its own copy, made at enqueue from the
-- request and the profile it named, so editing a profile never changes a queued job. NULL is today's
-- libx264 encode of the row's crf and preset (Job.Settings reads it so): every job from before
-- settings, and every job that asks for nothing else, which keeps those rows as small as they were.
ALTER TABLE jobs ADD COLUMN settings TEXT;
ALTER TABLE jobs ADD COLUMN profile TEXT;
-- The encoder a job needs a worker to have ('copy' for a stream copy); NULL when any worker can run it,
-- the original service's included: a libx264 encode of crf and preset and nothing else.
ALTER TABLE jobs ADD COLUMN needs_encoder TEXT;
-- What the last run reported: its ffmpeg command line, the quality gate's scores, and how it ended.
ALTER TABLE jobs ADD COLUMN command_line TEXT;
ALTER TABLE jobs ADD COLUMN ssim REAL;
ALTER TABLE jobs ADD COLUMN psnr REAL;
ALTER TABLE jobs ADD COLUMN result TEXT;
-- Named settings (PUT /api/profiles/{name}); the built-in ones live in the host's code.
CREATE TABLE profiles (
    name       TEXT PRIMARY KEY,
    settings   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT
);
-- The encoders a worker said it has, at its last claim (comma-separated), so a job no worker can run says so.
ALTER TABLE workers ADD COLUMN encoders TEXT;
-- step 14
-- The files watched folders enqueued (`VideoEncode.Worker watch`), each by its path (the job's
-- file_name), size and modification time (unix milliseconds). Written in the enqueue's own
-- transaction, so a file becomes one job across watcher restarts and however many watchers look at
-- one folder, and never a remembered file without its job; a file that changes is a new file. Kept
-- when its job is deleted, so a deleted job's file is not enqueued again; job_id says which job it became.
CREATE TABLE watched_files (
    path       TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    mtime      INTEGER NOT NULL,
    job_id     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (path, size, mtime)
) WITHOUT ROWID;
-- step 15
-- The input's dynamic range (none, hdr10, hlg, dolby_vision), as the worker that probed it reported.
ALTER TABLE jobs ADD COLUMN hdr TEXT;
-- step 16
-- The version a worker gave with its last claim (its X-VideoEncode-Worker header; null for a client
-- that sends none), so the workers list can mark workers whose version differs from the host's.
ALTER TABLE workers ADD COLUMN version TEXT;
-- step 17
-- Jobs made of tasks (several outputs, a package, thumbnails, a split encode). A task is a row of its
-- own, claimed, leased, fenced and retried like a job; parent_id names its job. task_kind: NULL for a
-- plain job (every job before tasks), 'job' for a job made of tasks (never claimed itself: its status
-- sums up its tasks'), otherwise the task's kind. task holds what the task is (JobTask, wire JSON).
-- A task waiting for others (a join for its chunks) is pending with available_at far ahead.
ALTER TABLE jobs ADD COLUMN parent_id INTEGER;
ALTER TABLE jobs ADD COLUMN task_kind TEXT;
ALTER TABLE jobs ADD COLUMN task TEXT;
CREATE INDEX jobs_tasks ON jobs (parent_id, id) WHERE parent_id IS NOT NULL;
-- A result's video codec and height, as its worker reported them (a job made of tasks lists its outputs with them).
ALTER TABLE jobs ADD COLUMN output_codec TEXT;
ALTER TABLE jobs ADD COLUMN output_height INTEGER;
-- step 18
-- Quotas per key (docs/quotas.md): a key's limits (NULL: none), kept by key name so the configured
-- key (VIDEOENCODE_APIKEY, not stored in api_keys) may have one too; and what each key used per
-- quota day (day: the day's start, unix seconds, days starting at QuotaResetHour UTC). Counted, not
-- derived from jobs, so deleting a job gives back nothing; written in the enqueue's transaction.
CREATE TABLE key_quotas (
    key_name               TEXT    PRIMARY KEY,
    jobs_per_day           INTEGER,
    encode_seconds_per_day INTEGER,
    max_pending            INTEGER,
    updated_at             INTEGER NOT NULL,
    updated_by             TEXT
);
CREATE TABLE key_usage (
    key_name       TEXT    NOT NULL,
    day            INTEGER NOT NULL,
    jobs           INTEGER NOT NULL DEFAULT 0,
    encode_seconds REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (key_name, day)
) WITHOUT ROWID;
-- A key's pending jobs (not tasks), for max_pending.
CREATE INDEX jobs_pending_by_key ON jobs (created_by) WHERE status = 'pending' AND parent_id IS NULL;
-- The input's duration in seconds, as the worker that finished it reported (encode seconds of a quota).
ALTER TABLE jobs ADD COLUMN input_seconds REAL;
-- When the queue hands out work (docs/schedules.md): worker '' is the whole queue's schedule, any
-- other a worker's; windows is the wire JSON list of windows, in time_zone (an IANA id).
CREATE TABLE schedules (
    worker     TEXT    PRIMARY KEY,
    time_zone  TEXT    NOT NULL,
    windows    TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT
);
-- A timed pause's end (unix seconds): claims go through from then on without anyone resuming.
ALTER TABLE queue_state ADD COLUMN resume_at INTEGER;
