-- mod_unread's objects in ejabberd's MySQL/MariaDB database (new schema,
-- with spool.server_host). mod_unread runs this itself at start when its SQL
-- user may; otherwise run it once as the database owner:
--   mariadb ejabberd < mysql.sql
-- Every statement can run again: it changes nothing the second time.
-- (CREATE TRIGGER IF NOT EXISTS is MariaDB's; on MySQL 8 drop the IF NOT
-- EXISTS and run the trigger statements once.)

-- Every delete and update of spool, appended by the triggers below in the
-- same transaction as the change itself, so nothing that removes or changes
-- a spool row (ejabberd on any node, XEP-0013, delete_old_messages,
-- WebAdmin, a DBA's DELETE) goes unseen. Each node reads it in id order and
-- prunes what all have read. Inserts are not logged: readers find new rows
-- in spool by seq.
-- MySQL runs no trigger for TRUNCATE: after a TRUNCATE of spool run
-- `ejabberdctl unread_resync` on each node.
CREATE TABLE IF NOT EXISTS mod_unread_log (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    server_host VARCHAR(191) NOT NULL,
    op CHAR(1) NOT NULL,              -- d: deleted, i: inserted (an update's new row)
    username VARCHAR(191) NOT NULL,
    seq BIGINT UNSIGNED NOT NULL,     -- spool.seq of the row
    xml MEDIUMTEXT NOT NULL,          -- a deleted row's xml, '' otherwise
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, -- the row's
    logged_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    INDEX i_mod_unread_log_sh_id (server_host, id)
) ENGINE=InnoDB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Where each node's reader is, so the log is pruned only below all of them.
CREATE TABLE IF NOT EXISTS mod_unread_reader (
    node VARCHAR(191) NOT NULL,
    server_host VARCHAR(191) NOT NULL,
    last_id BIGINT UNSIGNED NOT NULL,
    seen_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (node, server_host)
) ENGINE=InnoDB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Ids below below_id are gone from the log: a reader behind that rebuilds.
CREATE TABLE IF NOT EXISTS mod_unread_pruned (
    server_host VARCHAR(191) NOT NULL PRIMARY KEY,
    below_id BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Each host's highest spool seq now and then, with the time: a reader that
-- starts reads spool from the newest mark older than a minute, below which
-- no transaction can still be inserting.
CREATE TABLE IF NOT EXISTS mod_unread_mark (
    server_host VARCHAR(191) NOT NULL,
    seq BIGINT UNSIGNED NOT NULL,
    marked_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    INDEX i_mod_unread_mark_sh_at (server_host, marked_at)
) ENGINE=InnoDB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- The rebuild pages through one host's spool by seq, and readers look for
-- new rows by it.
CREATE INDEX IF NOT EXISTS i_mod_unread_spool_sh_seq ON spool (server_host, seq);

-- Releases before this one logged inserts too.
DROP TRIGGER IF EXISTS mod_unread_spool_inserted;
CREATE TRIGGER IF NOT EXISTS mod_unread_spool_deleted AFTER DELETE ON spool
    FOR EACH ROW INSERT INTO mod_unread_log (server_host, op, username, seq, xml, created_at)
    VALUES (OLD.server_host, 'd', OLD.username, OLD.seq, OLD.xml, OLD.created_at);
CREATE TRIGGER IF NOT EXISTS mod_unread_spool_updated AFTER UPDATE ON spool
    FOR EACH ROW INSERT INTO mod_unread_log (server_host, op, username, seq, xml, created_at)
    VALUES (OLD.server_host, 'd', OLD.username, OLD.seq, OLD.xml, OLD.created_at),
           (NEW.server_host, 'i', NEW.username, NEW.seq, '', NEW.created_at);
