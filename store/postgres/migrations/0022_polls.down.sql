DROP TABLE poll_no_follow_up;
DROP TABLE poll_asked;
DROP TABLE poll_answers;
DROP TABLE poll_counts;
DROP TABLE polls;
