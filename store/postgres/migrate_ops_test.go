package postgres

// The objects of the migrations of sessions, settings, handled updates and
// reminders, which TestMigrations applies, reverses and applies again.
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
}
