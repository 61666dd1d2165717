DROP TABLE supporters;
DROP TABLE institution_people;
DROP TABLE institutions;
