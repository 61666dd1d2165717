package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.etcd.io/bbolt"
)

// bucketInstitutionCodes indexes Institution.Code.
var bucketInstitutionCodes = []byte("institution_codes")

// InstitutionByCode returns the institution whose share code is code, in
// any case, or ErrNotFound.
func (s *Store) InstitutionByCode(ctx context.Context, code string) (*Institution, error) {
	inst := &Institution{}
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketInstitutionCodes).Get([]byte(normCode(code)))
		if id == nil || normCode(code) == "" {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bucketInstitutions), id, inst)
	})
	if err != nil {
		return nil, fmt.Errorf("institution %q: %w", code, err)
	}
	return inst, nil
}

// AssignInstitutionCode gives the institution a share code if it has none:
// its English name in lower-case Latin letters and digits when that makes
// a free code of 3 to 20 characters, else "org" and its number. It returns
// the institution.
func (s *Store) AssignInstitutionCode(ctx context.Context, id uint64) (*Institution, error) {
	inst := &Institution{}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketInstitutions)
		if err := getJSON(b, itob(id), inst); err != nil {
			return err
		}
		if inst.Code != "" {
			return nil
		}
		code, err := assignCode(tx, inst.ID, inst.NameEN)
		if err != nil {
			return err
		}
		inst.Code = code
		return putJSON(b, itob(id), inst)
	})
	if err != nil {
		return nil, fmt.Errorf("giving institution %d a code: %w", id, err)
	}
	return inst, nil
}

// assignCode picks a free code for institution id from its English name
// and indexes it, inside tx.
func assignCode(tx *bbolt.Tx, id uint64, nameEN string) (string, error) {
	codes := tx.Bucket(bucketInstitutionCodes)
	var b strings.Builder
	for _, r := range strings.ToLower(nameEN) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) && b.Len() < 20 {
			b.WriteRune(r)
		}
	}
	code := b.String()
	if len(code) < 3 || codes.Get([]byte(code)) != nil {
		code = "org" + strconv.FormatUint(id, 10)
	}
	for n := 2; codes.Get([]byte(code)) != nil; n++ {
		code = "org" + strconv.FormatUint(id, 10) + "x" + strconv.Itoa(n)
	}
	return code, codes.Put([]byte(code), itob(id))
}

// syncInstitutionCode normalises inst.Code and moves its index entry from
// old, inside tx; ErrCodeTaken if another institution has it.
func syncInstitutionCode(tx *bbolt.Tx, inst *Institution, old string) error {
	inst.Code = normCode(inst.Code)
	if inst.Code == old {
		return nil
	}
	codes := tx.Bucket(bucketInstitutionCodes)
	id := itob(inst.ID)
	if inst.Code != "" {
		if owner := codes.Get([]byte(inst.Code)); owner != nil && !bytes.Equal(owner, id) {
			return fmt.Errorf("institution code %q: %w", inst.Code, ErrCodeTaken)
		}
	}
	if old != "" && bytes.Equal(codes.Get([]byte(old)), id) {
		if err := codes.Delete([]byte(old)); err != nil {
			return err
		}
	}
	if inst.Code == "" {
		return nil
	}
	return codes.Put([]byte(inst.Code), id)
}

// createVersion7 creates the buckets of schema version 7 and moves the
// data to it: the index of people's roles in institutions, the supporters'
// lists and their reverse index, and the index of institution codes. Every
// approved institution gets a share code, and every member of an approved
// institution (Contact.InstitutionID) becomes its representative.
// Campaigns, broadcasts and reminders keep their records: without an
// organiser they are the coalition's, as all of them were. Institutions are
// edited as JSON objects, and contacts (binary since version 4) gain one
// field, so fields this migration does not know stay. The lists start
// empty, so no audience counter changes.
func createVersion7(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketInstitutionPeople, bucketSupporters, bucketSupportedBy, bucketInstitutionCodes} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
	}
	type instRec struct {
		ID        uint64    `json:"id"`
		NameEN    string    `json:"name_en"`
		Status    string    `json:"status"`
		Code      string    `json:"code"`
		DecidedAt time.Time `json:"decided_at"`
		DecidedBy uint64    `json:"decided_by"`
	}
	approved := map[uint64]instRec{}
	insts := tx.Bucket(bucketInstitutions)
	var coded [][2][]byte
	err := insts.ForEach(func(k, v []byte) error {
		var inst instRec
		if err := json.Unmarshal(v, &inst); err != nil {
			return fmt.Errorf("decoding institution %d: %w", btoi(k), err)
		}
		if inst.Status != string(InstitutionApproved) {
			return nil
		}
		approved[inst.ID] = inst
		if inst.Code == "" {
			code, err := assignCode(tx, inst.ID, inst.NameEN)
			if err != nil {
				return err
			}
			rec, err := setJSONField(v, "code", code)
			if err != nil {
				return fmt.Errorf("institution %d: %w", inst.ID, err)
			}
			coded = append(coded, [2][]byte{bytes.Clone(k), rec})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, kv := range coded {
		if err := insts.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	contacts, people := tx.Bucket(bucketContacts), tx.Bucket(bucketInstitutionPeople)
	var reps [][2][]byte
	err = contacts.ForEach(func(k, v []byte) error {
		var c Contact
		if err := decodeContact(btoi(k), v, &c); err != nil {
			return fmt.Errorf("decoding contact %d: %w", btoi(k), err)
		}
		inst, ok := approved[c.InstitutionID]
		if !ok || len(c.Affiliations) > 0 {
			return nil
		}
		a := Affiliation{InstitutionID: inst.ID, Role: InstitutionRepresentative, Since: inst.DecidedAt, By: inst.DecidedBy}
		// the affiliation is appended to the record as it is, so fields of
		// numbers this program does not know stay; it moves no audience counter
		rec, err := withFields(v, appendAffiliation(nil, a))
		if err != nil {
			return fmt.Errorf("contact %d: %w", btoi(k), err)
		}
		if err := putJSON(people, pairKey(inst.ID, btoi(k)), a); err != nil {
			return err
		}
		reps = append(reps, [2][]byte{bytes.Clone(k), rec})
		return nil
	})
	if err != nil {
		return err
	}
	for _, kv := range reps {
		if err := contacts.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// setJSONField returns the JSON object rec with field set to v, every
// other field kept as it was.
func setJSONField(rec []byte, field string, v any) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(rec, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errors.New("record is not a JSON object")
	}
	buf, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	obj[field] = buf
	return json.Marshal(obj)
}
