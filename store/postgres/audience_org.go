package postgres

import (
	"strconv"

	"mobilise/store"
)

// onList narrows an audience's condition on contacts, where with its
// arguments args (numbered from $first), to the people on aud.Institution's
// list now, if the audience is limited to one: as in the bbolt store, this
// applies to every kind, whoever it selects.
func onList(aud store.Audience, where string, args []any, first int) (string, []any) {
	if aud.Institution == 0 {
		return where, args
	}
	args = append(args, aud.Institution)
	return where + ` AND EXISTS (SELECT 1 FROM supporters s WHERE s.institution_id = $` + strconv.Itoa(first+len(args)-1) +
		` AND s.contact_id = contacts.id AND s.active)`, args
}
