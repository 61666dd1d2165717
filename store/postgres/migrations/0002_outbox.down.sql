DROP TRIGGER outbox_queued ON outbox;
DROP FUNCTION outbox_notify();
DROP TABLE outbox_sent;
DROP TABLE outbox;
DROP TABLE broadcasts;
