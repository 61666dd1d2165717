DROP TABLE watchers;
DROP TABLE bulk_sends;
DROP TABLE audit;
