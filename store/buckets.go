// Package store keeps the bot's data in one bbolt file, behind the
// operations the bot needs rather than a generic key-value interface.
//
// Schema, version 9. Numbers in keys and in non-JSON values are 8-byte
// big-endian (itob), so keys sort by number; ‖ joins key parts. JSON values
// use the snake_case tags of the types in types.go, with times in UTC.
//
//	meta             "schema_version"             : <uint64>            newest migration applied
//	                 "telegram_offset"            : <int64>             next getUpdates offset
//	contacts         (contact id)                 : <binary Contact>    JSON until version 4; see below
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
// Version 3 adds identities that survive a merge of accounts (contacts.go):
//
//	aliases              (merged contact id)             : <contact id>       the contact LinkAddresses merged it into
//	link_codes           "c:" code / "p:" contact id / "l:" token / "g:" mark : codes of /link, one per person; pending links; wrong codes per address mark (linkcodes.go)
//	meta                 "address_key"                   : <32 random bytes>  the key of AddressMark
//	bulk_sends           (author ‖ unix ns ‖ seq)        : <JSON BulkSend>    the ledger of bulk sends; pruned after 48h
//	outbox               (channel ‖ 0 ‖ 2 ‖ entry id)    : <JSON OutboxEntry> lane 2: a suspended broadcast's messages, parked
//	meta                 "throttled_until:<channel>"     : <unix ns>          a platform's retry_after, honoured across restarts
//
// Version 4 stores contacts in a compact binary form and counts the
// audiences (contactcodec.go, audindex.go):
//
//	contacts             (contact id)                    : 0x01 ‖ protobuf wire fields ‖ CRC-32C   numbered in contactcodec.go; no ID
//	pledges, signups     (campaign id ‖ contact id)      : <JSON Pledge/Signup>  without campaign_id and contact_id: the key holds them
//	audience_counts      (uvarint n ‖ segment of n bytes ‖ reach signature) : <uint64>   people of a segment reached alike
//
// A segment is a tag and its detail: "a" everyone, "m" members, "g"
// governorate, "l" language ("ar", "en"), "p" campaign id (pledged), "s"
// campaign id (signed up), and from version 7 "i" institution id (on its
// list of supporters). A reach signature is the preferred channel and
// the channels of the person's usable addresses in order, each as (uvarint
// length ‖ name). Only people who consented, have not stopped and have an
// address not marked unreachable are counted; the counters move in the
// transaction of every change that moves them.
//
// Version 5 adds the web dashboard's sign-ins (dashboard.go):
//
//	dashboard            "t:" sha256(token) / "s:" sha256(cookie)        : <JSON LoginToken> / <JSON WebSession>  one-time sign-in links; signed-in browsers
//
// Version 6 adds the people waiting for a scheduled campaign to open (watchers.go):
//
//	campaign_watchers    (campaign id ‖ contact id)      : <JSON Watch>       removed as the campaign opens and they are told
//
// Version 7 gives member institutions their people, supporters and share
// codes (institutions_staff.go, supporters.go, institutions_migrate.go):
//
//	institution_people   (institution id ‖ contact id)   : <JSON Affiliation> index of Contact.Affiliations: an institution's representatives and coordinators
//	supporters           (institution id ‖ contact id)   : <JSON Support>     an institution's list; written in the same transaction as what put someone on it; a prefix scan is the audience of its supporters
//	supported_by         (contact id ‖ institution id)   : <empty>            reverse of supporters: the lists one person is on
//	institution_codes    (code, lower case)              : <institution id>   index of Institution.Code, the code of its share link
//
//	contacts             (contact id)                    : field 18 of the binary Contact: its Affiliations
//	audience_counts      segment "i" ‖ (institution id)  : the people on an institution's list now (supporters that have not left)
//
// Campaigns, broadcasts and reminders (and the polls of version 8) name
// their Organiser; a record without one is the coalition's, so those
// written before version 7 are.
// Pledges and sign-ups name the organising institution they are credited to
// (0: the coalition). The migration to 7 gives approved institutions a code
// and makes each member of one (Contact.InstitutionID) its representative.
//
// Version 8 adds polls, and the codes that prove a call genuine (polls.go, verify.go):
//
//	polls                (poll id)                        : <JSON Poll>
//	poll_index           'b' ‖ (broadcast id)             : <poll id>          the poll a broadcast carries
//	                     'e' ‖ (campaign id)              : <poll id>          the campaign's question after its event: one per campaign
//	                     'o' ‖ (campaign id)              : <empty>            that question switched off
//	poll_answers         (poll id ‖ option byte ‖ contact id) : <JSON PollAnswer> one per person per poll: a prefix scan of
//	                                                                           (poll id ‖ option) lists who chose the option;
//	                     (poll id ‖ option ‖ 1<<63 | n)   : <JSON PollAnswer>  anonymous: its person was forgotten
//	poll_asked           (poll id ‖ contact id)           : <unix seconds>     whom the poll was queued for, and when
//	poll_counts          (poll id)                        : <JSON PollCounts>  asked and answers per option, written in the same
//	                                                                           transaction as the answers and asked marks
//	verify_codes         "c:" code / "r:" kind 0 id / "g:" mark : the call sent under each code; the latest code of a
//	                                                                           broadcast or reminder; wrong codes asked about per address mark
//
// Version 9 adds files sent with campaigns and broadcasts (media.go). The
// files themselves are not in the database but in the media directory
// beside it, named by the SHA-256 of their content (media/ab/abcdef…);
// Campaign.Media, Broadcast.Media and OutboxEntry.Media name them.
//
//	media_uploads        (account ‖ 0 ‖ sha256 hex)       : <JSON upload>      a platform's reference to a file uploaded once:
//	                                                                           "telegram:<bot id>" a file_id, "whatsapp:<number>" a media upload
//
// Outbox entry IDs come from the outbox bucket's sequence, one for all
// channels, so they order every message ever queued.
//
// IDs come from each bucket's NextSequence, so a deleted ID is never reused.
// Adding a JSON field, or a contact field with a new number, needs no
// migration; renaming, re-keying or a new bucket does (migrate.go), and this
// comment changes in the same commit.
//
// How full bbolt packs a bucket's pages when they split is set per bucket in
// fillOf, for how the bucket is written: keys that only grow pack nearly
// fully, keys inserted anywhere half.
package store

import "go.etcd.io/bbolt"

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
	bucketAliases       = []byte("aliases")
	keySchemaVersion    = []byte("schema_version")
	keyTelegramOffset   = []byte("telegram_offset")
)

// fillOf is how full pages of bucket are packed when they split. Keys that
// only grow are appended at the right edge, where a page split half full
// stays half full for good: those buckets are packed to the brim, or to
// nine tenths when their records are later rewritten a little longer (a
// person gains an unreachable mark, an outbox entry its attempts), as a full
// page would split at every such change. Measured on 100,000 records
// appended in commits of 50: at 1.0 pages are 98% full, but 67% once three
// in ten appends also lengthen an older record; at 0.9, 88% and 91%.
// bbolt's default, half, suits keys inserted anywhere (addresses, share
// codes, sessions, pledges, sign-ups): there a higher fill leaves pages
// emptier, not fuller (random inserts: 70% full at 0.5, 42% at 0.9).
func fillOf(bucket []byte) float64 {
	switch string(bucket) {
	case "audit", "handled_by_time":
		return 1 // appended, never rewritten
	case "contacts", "outbox", "outbox_ids", "outbox_by_broadcast":
		return 0.9
	}
	return bbolt.DefaultFillPercent
}

// packedBuckets are the buckets fillOf packs beyond bbolt's default.
var packedBuckets = [][]byte{
	[]byte("audit"), []byte("handled_by_time"), []byte("contacts"),
	[]byte("outbox"), []byte("outbox_ids"), []byte("outbox_by_broadcast"),
}

// packBuckets sets fillOf on the buckets of a write transaction: bbolt keeps
// the setting on the bucket handle, which lives as long as the transaction.
func packBuckets(tx *bbolt.Tx) {
	for _, name := range packedBuckets {
		if b := tx.Bucket(name); b != nil {
			b.FillPercent = fillOf(name)
		}
	}
}
