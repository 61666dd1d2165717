package store

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// pauseKey holds, in meta, the admin's kill switch for all sending.
var pauseKey = []byte("paused")

// Pause is the state of the kill switch.
type Pause struct {
	Paused bool      `json:"paused"`
	By     uint64    `json:"by,omitempty"`
	At     time.Time `json:"at,omitempty"`
}

// Pause returns the kill switch's state; unset means not paused.
func (s *Store) Pause() (Pause, error) {
	var p Pause
	err := s.view(func(tx *bbolt.Tx) error {
		err := getJSON(tx.Bucket(bucketMeta), pauseKey, &p)
		if err == ErrNotFound {
			return nil
		}
		return err
	})
	if err != nil {
		return Pause{}, fmt.Errorf("reading pause state: %w", err)
	}
	return p, nil
}

// SetPause turns the kill switch on or off.
func (s *Store) SetPause(p Pause) error {
	err := s.update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketMeta), pauseKey, p)
	})
	if err != nil {
		return fmt.Errorf("saving pause state: %w", err)
	}
	return nil
}
