DROP TABLE referral_credits;
DROP TABLE link_failures;
DROP TABLE pending_links;
DROP TABLE link_codes;
