DROP TABLE handled;
DROP TABLE throttles;
DROP TABLE meta;
DROP TABLE sessions;
