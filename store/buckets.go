// Package store keeps the bot's data in one bbolt file, behind the
// operations the bot needs rather than a generic key-value interface.
//
// Schema, version 2. Numbers in keys and in non-JSON values are 8-byte
// big-endian (itob), so keys sort by number; ‖ joins key parts. JSON values
// use the snake_case tags of the types in types.go, with times in UTC.
//
//	meta             "schema_version"             : <uint64>            newest migration applied
//	                 "telegram_offset"            : <int64>             next getUpdates offset
//	contacts         (contact id)                 : <JSON Contact>
//	addresses        ("telegram:123")             : <contact id>        index: one entry per Contact.Addresses
//	refcodes         (code, lower case)           : <contact id>        index: Contact.RefCode, and the codes of contacts merged into it
//	institutions     (institution id)             : <JSON Institution>
//	campaigns        (campaign id)                : <JSON Campaign>
//	campaign_codes   (code, lower case)           : <campaign id>       index
//	pledges          (campaign id ‖ contact id)   : <JSON Pledge>       prefix scan = one campaign's pledges
//	                 (campaign id ‖ 1<<63 | n)    : <JSON Pledge>       anonymous: its person was forgotten; n from the bucket's sequence
//	signups          (campaign id ‖ contact id)   : <JSON Signup>
//	counters         (campaign id)                : <JSON Counts>       written in the same transaction as pledges and sign-ups
//	sessions         (contact id)                 : <JSON Session>
//	audit            (entry id)                   : <JSON AuditEntry>
//	handled_updates  (channel ‖ 0 ‖ update id)    : <unix seconds>      de-duplicates incoming updates
//	handled_by_time  (unix ‖ channel ‖ 0 ‖ id)    : <empty>             index that prunes handled_updates after 48h
//
// Version 2 adds the outbox, broadcasts and reminders (outbox.go, broadcasts.go, reminders.go):
//
//	outbox               (channel ‖ 0 ‖ lane ‖ entry id)  : <JSON OutboxEntry>  lane 0 notices, 1 bulk; a dispatcher scans its channel's lanes in ID order
//	outbox_ids           (entry id)                      : <broadcast id ‖ outbox key>  index: finds an entry, and the broadcast it counts for, by ID
//	outbox_by_broadcast  (broadcast id ‖ entry id)       : <empty>            index: a broadcast's pending entries, for cancelling
//	outbox_sent          (channel ‖ 0 ‖ minute unix)     : <uint64>           bulk messages sent per minute, for daily caps; pruned after 48h
//	broadcasts           (broadcast id)                  : <JSON Broadcast>   counters written in the same transaction as the outbox
//	reminders            (reminder id)                   : <JSON Reminder>
//	reminders_due        (next fire unix ‖ reminder id)  : <empty>            index, written in the same transaction as the reminder
//
// Outbox entry IDs come from the outbox bucket's sequence, one for all
// channels, so they order every message ever queued.
//
// IDs come from each bucket's NextSequence, so a deleted ID is never reused.
// Adding a JSON field needs no migration; renaming, re-keying or a new bucket
// does (migrate.go), and this comment changes in the same commit.
package store

// Bucket names. The bucket set of each schema version is fixed by its
// migration; these only name them.
var (
	bucketMeta          = []byte("meta")
	bucketContacts      = []byte("contacts")
	bucketAddresses     = []byte("addresses")
	bucketRefCodes      = []byte("refcodes")
	bucketInstitutions  = []byte("institutions")
	bucketCampaigns     = []byte("campaigns")
	bucketCampaignCodes = []byte("campaign_codes")
	bucketPledges       = []byte("pledges")
	bucketSignups       = []byte("signups")
	bucketCounters      = []byte("counters")
	bucketSessions      = []byte("sessions")
	bucketAudit         = []byte("audit")
	bucketHandled       = []byte("handled_updates")
	bucketHandledByTime = []byte("handled_by_time")
	keySchemaVersion    = []byte("schema_version")
	keyTelegramOffset   = []byte("telegram_offset")
)
