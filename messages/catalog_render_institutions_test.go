package messages

// institutionsSampleData is realistic data for the placeholders of the
// member institutions' messages (keys_institutions.go), as their callers
// fill them: commands isolated, names as people type them, yes or no as
// words.
func institutionsSampleData(cat *Catalog, lang string) map[string]any {
	pick := func(a, e string) string {
		if lang == Arabic {
			return a
		}
		return e
	}
	return map[string]any{
		"Organiser":      pick("مركز الحوار ومنتدى السلام", "Dialogue Centre and Peace Forum"),
		"Old":            pick("مركز الحوار", "Dialogue Centre"),
		"Requested":      pick("مركز الحوار والتنمية", "Dialogue and Development Centre"),
		"Names":          pick("مركز الحوار، منتدى السلام", "Dialogue Centre, Peace Forum"),
		"Leave":          Isolate("/leave"),
		"Coordinator":    Isolate("/appointcoordinator salam #12"),
		"Representative": Isolate("/addrepresentative salam #12"),
		"Remove":         Isolate("/removeperson salam #12"),
		"Phone":          Isolate("0599123456"),
		"Email":          Isolate("info@salam.ps"),
		"Listed":         cat.Text(lang, CommonYes, nil),
	}
}
