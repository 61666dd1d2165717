package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// bucketVerify holds the codes that prove a call genuine:
//
//	"c:" code                  : <JSON Call>    what the coalition sent under the code
//	"r:" kind 0 (id)           : <code>         the latest code of a broadcast or reminder
//	"g:" (address mark)        : <JSON []unix>  wrong codes asked about from an address in the last hour
var bucketVerify = []byte("verify_codes")

// verifyWindow is how long a wrong code counts against the address that asked.
const verifyWindow = time.Hour

// Call is what the coalition sent under one verification code: a
// broadcast, one firing of a reminder, a poll, a warning about a fake. It
// names no recipient: the same code is on every copy.
type Call struct {
	Code string `json:"code"`
	// Kind is "broadcast", "reminder" or "follow_up"; RefID the broadcast's,
	// reminder's or poll's ID.
	Kind       string    `json:"kind"`
	RefID      uint64    `json:"ref_id"`
	CampaignID uint64    `json:"campaign_id,omitempty"`
	At         time.Time `json:"at"`
	// TextAR and TextEN are the words sent, before the code was added: a
	// message that claims the code is genuine only if it says them.
	TextAR string `json:"text_ar"`
	TextEN string `json:"text_en,omitempty"`
}

func callRefKey(kind string, id uint64) []byte {
	return append(append([]byte("r:"+kind), 0), itob(id)...)
}

// PutCall records a call under its code and as the latest of its kind and
// ID; a code already in use gives ErrCodeTaken. A zero At is now.
func (s *Store) PutCall(ctx context.Context, c *Call) error {
	rec := *c
	if rec.Code == "" {
		return errors.New("recording a call: no code")
	}
	if rec.At.IsZero() {
		rec.At = s.stamp()
	}
	rec.At = rec.At.UTC()
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketVerify)
		key := []byte("c:" + rec.Code)
		if b.Get(key) != nil {
			return ErrCodeTaken
		}
		if err := putJSON(b, key, &rec); err != nil {
			return err
		}
		return b.Put(callRefKey(rec.Kind, rec.RefID), []byte(rec.Code))
	})
	if err != nil {
		return fmt.Errorf("recording the %s %d's code: %w", rec.Kind, rec.RefID, err)
	}
	*c = rec
	return nil
}

// Call returns the call sent under code, or ErrNotFound.
func (s *Store) Call(ctx context.Context, code string) (*Call, error) {
	c := &Call{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketVerify), []byte("c:"+code), c) }); err != nil {
		return nil, fmt.Errorf("call: %w", err)
	}
	return c, nil
}

// CallOf returns the latest call of a broadcast or reminder, or ErrNotFound.
func (s *Store) CallOf(ctx context.Context, kind string, id uint64) (*Call, error) {
	c := &Call{}
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketVerify)
		code := b.Get(callRefKey(kind, id))
		if code == nil {
			return ErrNotFound
		}
		return getJSON(b, append([]byte("c:"), code...), c)
	})
	if err != nil {
		return nil, fmt.Errorf("call of %s %d: %w", kind, id, err)
	}
	return c, nil
}

// VerifyFailures returns the times a code the coalition never sent was
// asked about from the address marked mark, within the hour before now.
func (s *Store) VerifyFailures(ctx context.Context, mark []byte, now time.Time) ([]time.Time, error) {
	var out []time.Time
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, err = recentMarks(tx.Bucket(bucketVerify), append([]byte("g:"), mark...), now, verifyWindow)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading verification failures: %w", err)
	}
	return out, nil
}

// AddVerifyFailure records a code the coalition never sent, asked about at
// now from the address marked mark, keeping the last hour's.
func (s *Store) AddVerifyFailure(ctx context.Context, mark []byte, now time.Time) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		return addMark(tx.Bucket(bucketVerify), append([]byte("g:"), mark...), now, verifyWindow)
	})
	if err != nil {
		return fmt.Errorf("recording a verification failure: %w", err)
	}
	return nil
}

// recentMarks reads the times under key (a JSON list of unix seconds) that
// lie within window before now.
func recentMarks(b *bbolt.Bucket, key []byte, now time.Time, window time.Duration) ([]time.Time, error) {
	var raw []int64
	switch err := getJSON(b, key, &raw); {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	var out []time.Time
	for _, u := range raw {
		if at := time.Unix(u, 0); now.Sub(at) < window {
			out = append(out, at)
		}
	}
	return out, nil
}

// addMark adds now to the times under key, dropping those older than window.
func addMark(b *bbolt.Bucket, key []byte, now time.Time, window time.Duration) error {
	recent, err := recentMarks(b, key, now, window)
	if err != nil {
		return err
	}
	raw := make([]int64, 0, len(recent)+1)
	for _, at := range recent {
		raw = append(raw, at.Unix())
	}
	return putJSON(b, bytes.Clone(key), append(raw, now.Unix()))
}
