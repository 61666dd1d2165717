-- The anonymous answers go; the counts in poll_counts keep them, as the
-- erasure cannot be undone.
DROP TABLE forgotten_poll_answers;
