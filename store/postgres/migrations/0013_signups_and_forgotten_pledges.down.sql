DROP TABLE forgotten_pledges;
DROP TABLE signups;
