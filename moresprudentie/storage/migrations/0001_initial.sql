-- The shared store: the collection, every text ever stored, conflict copies and the audit log.
-- Applied once, in one transaction, by storage/postgres.py (migrate); never edited after release:
-- a change to the schema is a new file with the next number.

-- One case text, byte for byte as written (YAML), in its place: the collection (published cases and
-- new drafts), a revision waiting beside a published case, or the archive of withdrawn cases.
CREATE TABLE case_documents (
    case_id    text        NOT NULL CHECK (case_id ~ '^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$'),
    place      text        NOT NULL CHECK (place IN ('collection', 'revision', 'withdrawn')),
    hash       text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    status     text,       -- the case's status field (draft, published), NULL when the text is not a valid case
    body       bytea       NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, place)
);

-- Every text ever stored, by its sha256: what an audit event's hash names, kept after it is replaced.
CREATE TABLE case_versions (
    hash      text        PRIMARY KEY,
    case_id   text        NOT NULL,
    body      bytea       NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now()
);

-- The text of a save that lost a race: no officer's text is ever lost.
CREATE TABLE conflict_copies (
    id      bigserial   PRIMARY KEY,
    case_id text        NOT NULL,
    body    bytea       NOT NULL,
    kept_at timestamptz NOT NULL DEFAULT now()
);

-- The audit log: who did what to which text, in the order it happened (seq).
CREATE TABLE audit_events (
    seq         bigserial   PRIMARY KEY,
    time        text        NOT NULL,
    actor       text        NOT NULL,
    action      text        NOT NULL CHECK (action IN ('drafted', 'submitted', 'approved', 'sent_back', 'published',
                                                       'withdrawal_proposed', 'withdrawn', 'imported')),
    case_id     text        NOT NULL,
    hash        text        NOT NULL,
    comment     text        NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_by_case ON audit_events (case_id, seq);

-- How often the collection changed: replicas compare it to know when to refresh (and are notified).
CREATE TABLE store_changes (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    counter  bigint  NOT NULL
);
INSERT INTO store_changes VALUES (true, 0);

-- The audit log is append-only, in the database too: no UPDATE, DELETE or TRUNCATE, whoever asks.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Four eyes, in the database too (the workflow checks it first, with a friendlier message): nobody
-- approves a text they drafted, nothing is published without a second officer's approval of exactly
-- that text, and nobody approves the withdrawal they proposed. A round starts after the last
-- publication, withdrawal or import of the case.
CREATE FUNCTION audit_name(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(btrim(name)) $$;

CREATE FUNCTION audit_events_four_eyes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    round_start bigint;
BEGIN
    SELECT coalesce(max(seq), 0) INTO round_start FROM audit_events
        WHERE case_id = NEW.case_id AND action IN ('published', 'withdrawn', 'imported');
    IF NEW.action = 'approved' AND EXISTS (
        SELECT 1 FROM audit_events WHERE case_id = NEW.case_id AND seq > round_start AND hash = NEW.hash
            AND action = 'drafted' AND audit_name(actor) = audit_name(NEW.actor)) THEN
        RAISE EXCEPTION 'four-eyes rule: % drafted this version of % and may not approve it', NEW.actor, NEW.case_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.action = 'published' AND NOT EXISTS (
        SELECT 1 FROM audit_events a WHERE a.case_id = NEW.case_id AND a.seq > round_start AND a.hash = NEW.hash
            AND a.action = 'approved' AND NOT EXISTS (
                SELECT 1 FROM audit_events d WHERE d.case_id = NEW.case_id AND d.seq > round_start
                    AND d.hash = NEW.hash AND d.action = 'drafted' AND audit_name(d.actor) = audit_name(a.actor))) THEN
        RAISE EXCEPTION 'four-eyes rule: this version of % has no approval by a second officer', NEW.case_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.action = 'withdrawn' AND NOT EXISTS (
        SELECT 1 FROM audit_events WHERE case_id = NEW.case_id AND seq > round_start AND hash = NEW.hash
            AND action = 'withdrawal_proposed' AND audit_name(actor) <> audit_name(NEW.actor)) THEN
        RAISE EXCEPTION 'four-eyes rule: the withdrawal of % was not proposed by another officer', NEW.case_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_events_four_eyes BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_four_eyes();

-- Every text stored is kept by its hash; every change to the documents moves the counter and notifies.
CREATE FUNCTION case_documents_keep_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_versions (hash, case_id, body) VALUES (NEW.hash, NEW.case_id, NEW.body)
        ON CONFLICT (hash) DO NOTHING;
    RETURN NEW;
END $$;
CREATE TRIGGER case_documents_versions AFTER INSERT OR UPDATE ON case_documents
    FOR EACH ROW EXECUTE FUNCTION case_documents_keep_version();

CREATE FUNCTION case_documents_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    now_at bigint;
BEGIN
    UPDATE store_changes SET counter = counter + 1 RETURNING counter INTO now_at;
    PERFORM pg_notify('moresprudentie_changes', now_at::text);
    RETURN NULL;
END $$;
CREATE TRIGGER case_documents_counter AFTER INSERT OR UPDATE OR DELETE ON case_documents
    FOR EACH STATEMENT EXECUTE FUNCTION case_documents_changed();
