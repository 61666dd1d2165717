package postgres

// The objects of migrations 10 and up (sessions, settings, handled
// updates, reminders, sign-ups and forgotten pledges, the audit log, the
// bulk-send ledger, watchers, link codes and aliases of merged contacts),
// which TestMigrations applies, reverses and applies again.
func init() {
	schemaObjects[10] = []string{
		"table sessions", "table meta", "table throttles", "table handled",
		"constraint sessions_pkey", "constraint meta_pkey", "constraint throttles_pkey", "constraint handled_pkey",
		"index sessions_pkey", "index meta_pkey", "index throttles_pkey", "index handled_pkey", "index handled_at_idx",
	}
	schemaObjects[11] = []string{
		"table reminders", "sequence reminders_id_seq", "constraint reminders_pkey",
		"index reminders_pkey", "index reminders_due_idx",
	}
	schemaObjects[13] = []string{
		"table signups", "table forgotten_pledges", "sequence forgotten_pledges_id_seq",
		"constraint signups_pkey", "constraint signups_campaign_id_fkey", "constraint signups_contact_id_fkey",
		"constraint forgotten_pledges_pkey", "constraint forgotten_pledges_campaign_id_fkey",
		"index signups_pkey", "index signups_contact_idx", "index forgotten_pledges_pkey", "index forgotten_pledges_campaign_idx",
	}
	schemaObjects[14] = []string{
		"table audit", "table bulk_sends", "table watchers", "sequence audit_id_seq", "sequence bulk_sends_seq_seq",
		"constraint audit_pkey", "constraint bulk_sends_pkey", "constraint watchers_pkey",
		"constraint watchers_campaign_id_fkey", "constraint watchers_contact_id_fkey",
		"index audit_pkey", "index bulk_sends_pkey", "index bulk_sends_author_idx", "index watchers_pkey", "index watchers_contact_idx",
	}
	schemaObjects[15] = []string{
		"table link_codes", "table pending_links", "table link_failures", "table referral_credits",
		"constraint link_codes_pkey", "constraint link_codes_code_key", "constraint pending_links_pkey",
		"constraint link_failures_pkey", "constraint referral_credits_pkey",
		"index link_codes_pkey", "index link_codes_code_key", "index link_codes_expires_idx", "index pending_links_pkey",
		"index link_failures_pkey", "index referral_credits_pkey",
	}
	schemaObjects[16] = []string{
		"table aliases", "table ref_aliases", "constraint aliases_pkey", "constraint ref_aliases_pkey",
		"constraint ref_aliases_contact_id_fkey", "index aliases_pkey", "index aliases_contact_idx", "index ref_aliases_pkey",
		"index ref_aliases_contact_idx", "function ref_code_unique", "trigger contacts_ref_code_unique", "trigger ref_aliases_code_unique",
	}
}
