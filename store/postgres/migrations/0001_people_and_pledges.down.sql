DROP TABLE pledges;
DROP TABLE campaign_counts;
DROP TABLE campaigns;
DROP TABLE addresses;
DROP TABLE contacts;
