DROP TABLE web_sessions;
DROP TABLE login_tokens;
