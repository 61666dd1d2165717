package postgres

// The objects of migrations 10 and up (sessions, settings, handled
// updates, reminders, sign-ups and forgotten pledges), which
// TestMigrations applies, reverses and applies again.
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
}
