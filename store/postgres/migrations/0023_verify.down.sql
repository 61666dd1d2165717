DROP TABLE verify_failures;
DROP TABLE latest_calls;
DROP TABLE calls;
