package postgres

// The objects of the migrations of institutions, their supporters, the
// dashboard's sign-ins, polls, verification codes and media uploads, which
// TestMigrations applies, reverses and applies again like every other.
func init() {
	for v, objs := range map[int][]string{
		20: {
			"table institutions", "table institution_people", "table supporters", "sequence institutions_id_seq",
			"constraint institutions_pkey", "constraint institutions_code_key", "constraint institutions_code_check",
			"constraint institution_people_pkey", "constraint institution_people_contact_id_fkey",
			"constraint supporters_pkey", "constraint supporters_contact_id_fkey",
			"index institutions_pkey", "index institutions_code_key", "index institution_people_pkey",
			"index institution_people_contact_idx", "index supporters_pkey", "index supporters_contact_idx", "index supporters_active_idx",
		},
		21: {
			"table login_tokens", "table web_sessions",
			"constraint login_tokens_pkey", "constraint web_sessions_pkey",
			"index login_tokens_pkey", "index login_tokens_expires_idx", "index login_tokens_contact_idx",
			"index web_sessions_pkey", "index web_sessions_expires_idx", "index web_sessions_contact_idx",
		},
		22: {
			"table polls", "table poll_counts", "table poll_answers", "table poll_asked", "table poll_no_follow_up",
			"sequence polls_id_seq",
			"constraint polls_pkey", "constraint polls_attendance_key",
			"constraint poll_counts_pkey", "constraint poll_counts_poll_id_fkey",
			"constraint poll_answers_pkey", "constraint poll_answers_poll_id_fkey", "constraint poll_answers_option_check",
			"constraint poll_asked_pkey", "constraint poll_asked_poll_id_fkey",
			"constraint poll_no_follow_up_pkey", "constraint poll_no_follow_up_campaign_id_fkey",
			"index polls_pkey", "index polls_attendance_key", "index polls_broadcast_idx", "index poll_counts_pkey",
			"index poll_answers_pkey", "index poll_answers_option_idx", "index poll_answers_contact_idx",
			"index poll_asked_pkey", "index poll_no_follow_up_pkey",
		},
		23: {
			"table calls", "table latest_calls", "table verify_failures",
			"constraint calls_pkey", "constraint latest_calls_pkey", "constraint latest_calls_code_fkey", "constraint verify_failures_pkey",
			"index calls_pkey", "index latest_calls_pkey", "index verify_failures_pkey",
		},
		24: {
			"table media_uploads", "constraint media_uploads_pkey", "constraint media_uploads_account_check", "index media_uploads_pkey",
		},
	} {
		schemaObjects[v] = objs
	}
}
