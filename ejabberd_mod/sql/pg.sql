-- mod_unread's objects in ejabberd's PostgreSQL database (new schema, with
-- spool.server_host). mod_unread runs this itself at start when its SQL
-- user may; otherwise run it once as the database owner:
--   psql -d ejabberd -f pg.sql
-- Every statement can run again: it changes nothing the second time.

-- Every delete and update of spool, appended by the triggers below in the
-- same transaction as the change itself, so nothing that removes or changes
-- a spool row (ejabberd on any node, XEP-0013, delete_old_messages,
-- WebAdmin, a DBA's DELETE) goes unseen. Each node reads it in id order and
-- prunes what all have read. Inserts are not logged: readers find new rows
-- in spool by seq.
CREATE TABLE IF NOT EXISTS mod_unread_log (
    id BIGSERIAL PRIMARY KEY,
    server_host TEXT NOT NULL,
    op CHAR(1) NOT NULL,              -- d: deleted, i: inserted (an update's new row), c: truncated
    username TEXT NOT NULL,
    seq BIGINT NOT NULL,              -- spool.seq of the row
    xml TEXT NOT NULL,                -- a deleted row's xml, '' otherwise
    created_at TIMESTAMP NOT NULL,    -- the row's created_at
    logged_at TIMESTAMP NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS i_mod_unread_log_sh_id ON mod_unread_log (server_host, id);

-- Where each node's reader is, so the log is pruned only below all of them.
CREATE TABLE IF NOT EXISTS mod_unread_reader (
    node TEXT NOT NULL,
    server_host TEXT NOT NULL,
    last_id BIGINT NOT NULL,
    seen_at TIMESTAMP NOT NULL DEFAULT now(),
    PRIMARY KEY (node, server_host)
);

-- Ids below below_id are gone from the log: a reader behind that rebuilds.
CREATE TABLE IF NOT EXISTS mod_unread_pruned (
    server_host TEXT PRIMARY KEY,
    below_id BIGINT NOT NULL
);

-- Each host's highest spool seq now and then, with the time: a reader that
-- starts reads spool from the newest mark older than a minute, below which
-- no transaction can still be inserting.
CREATE TABLE IF NOT EXISTS mod_unread_mark (
    server_host TEXT NOT NULL,
    seq BIGINT NOT NULL,
    marked_at TIMESTAMP NOT NULL
);
CREATE INDEX IF NOT EXISTS i_mod_unread_mark_sh_at ON mod_unread_mark (server_host, marked_at);

-- ejabberd's PostgreSQL schema has no index on spool.seq: the rebuild pages
-- through spool by seq, readers look for new rows by it, and an update's
-- logged row is looked up by it.
CREATE INDEX IF NOT EXISTS i_mod_unread_spool_sh_seq ON spool (server_host, seq);
CREATE INDEX IF NOT EXISTS i_mod_unread_spool_seq ON spool (seq);

CREATE OR REPLACE FUNCTION mod_unread_spool_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO mod_unread_log (server_host, op, username, seq, xml, created_at)
        VALUES (OLD.server_host, 'd', OLD.username, OLD.seq, OLD.xml, OLD.created_at);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO mod_unread_log (server_host, op, username, seq, xml, created_at)
        VALUES (NEW.server_host, 'i', NEW.username, NEW.seq, '', NEW.created_at);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION mod_unread_spool_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mod_unread_log (server_host, op, username, seq, xml, created_at)
    VALUES ('', 'c', '', 0, '', now());
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER mod_unread_spool_changed
    AFTER UPDATE OR DELETE ON spool
    FOR EACH ROW EXECUTE FUNCTION mod_unread_spool_changed();
CREATE OR REPLACE TRIGGER mod_unread_spool_truncated
    AFTER TRUNCATE ON spool
    FOR EACH STATEMENT EXECUTE FUNCTION mod_unread_spool_truncated();
