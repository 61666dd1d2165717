package store

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInstitutions(t *testing.T) {
	s, clock := openTestStore(t)
	a := &Institution{NameAR: "جمعية الأمل", Field: "youth", Governorates: []string{"nablus"}, ContactPerson: "Rami", ApplicantID: 3}
	require.NoError(t, s.CreateInstitution(context.Background(), a))
	assert.Equal(t, uint64(1), a.ID)
	assert.Equal(t, InstitutionPending, a.Status)
	assert.Equal(t, clock.Now(), a.CreatedAt)
	b := &Institution{NameAR: "مركز السلام", Status: InstitutionApproved}
	require.NoError(t, s.CreateInstitution(context.Background(), b))
	assert.Equal(t, uint64(2), b.ID)

	got, err := s.Institution(context.Background(), a.ID)
	require.NoError(t, err)
	assert.Equal(t, a, got)
	_, err = s.Institution(context.Background(), 99)
	assert.ErrorIs(t, err, ErrNotFound)

	all, err := s.Institutions(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, []uint64{1, 2}, []uint64{all[0].ID, all[1].ID})
	pending, err := s.Institutions(context.Background(), InstitutionPending)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, a.ID, pending[0].ID)
	rejected, err := s.Institutions(context.Background(), InstitutionRejected)
	require.NoError(t, err)
	assert.Empty(t, rejected)

	clock.Add(1)
	got, err = s.UpdateInstitution(context.Background(), a.ID, func(inst *Institution) error {
		inst.ID = 7
		inst.Status, inst.DecidedBy, inst.DecidedAt = InstitutionApproved, 1, clock.Now()
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.ID)
	assert.Equal(t, InstitutionApproved, got.Status)
	approved, err := s.Institutions(context.Background(), InstitutionApproved)
	require.NoError(t, err)
	assert.Len(t, approved, 2)

	boom := errors.New("boom")
	_, err = s.UpdateInstitution(context.Background(), a.ID, func(inst *Institution) error {
		inst.NameAR = "changed"
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = s.Institution(context.Background(), a.ID)
	require.NoError(t, err)
	assert.Equal(t, "جمعية الأمل", got.NameAR)
	_, err = s.UpdateInstitution(context.Background(), 99, func(*Institution) error { return nil })
	assert.ErrorIs(t, err, ErrNotFound)
}
