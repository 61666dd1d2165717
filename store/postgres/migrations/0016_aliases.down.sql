DROP TRIGGER ref_aliases_code_unique ON ref_aliases;
DROP TRIGGER contacts_ref_code_unique ON contacts;
DROP FUNCTION ref_code_unique();
DROP TABLE ref_aliases;
DROP TABLE aliases;
