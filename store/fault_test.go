package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultChildEnv names, in the environment of a re-run test binary, the test
// it is to run in its own mount namespace.
const faultChildEnv = "MOBILISE_FAULT_CHILD"

// inMountNamespace runs body in a copy of the test binary that has a mount
// namespace of its own, so it can mount a tiny tmpfs or remount a directory
// read-only without touching the machine's mounts. As root it only unshares
// the mount namespace; otherwise it also enters a user namespace, which
// needs no privileges where the kernel allows them. Where neither works the
// test is skipped, saying why.
func inMountNamespace(t *testing.T, body func(t *testing.T, dir string)) {
	t.Helper()
	if os.Getenv(faultChildEnv) == t.Name() {
		if os.Geteuid() != 0 || os.Getenv("MOBILISE_FAULT_USERNS") != "" {
			// a new user namespace does not make its mounts private by itself
			require.NoError(t, syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""))
		}
		body(t, os.Getenv("MOBILISE_FAULT_DIR"))
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), faultChildEnv+"="+t.Name(), "MOBILISE_FAULT_DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if os.Geteuid() != 0 {
		cmd.Env = append(cmd.Env, "MOBILISE_FAULT_USERNS=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Skipf("no mount namespace to simulate the fault in (%v): needs root or unprivileged user namespaces", err)
	}
	err := cmd.Wait()
	t.Logf("in its own mount namespace:\n%s", out.String())
	require.NoError(t, err)
	require.Contains(t, out.String(), "--- PASS: "+t.Name(), "the test ran in the child")
}

// TestDiskFull fills a 1 MiB tmpfs under the store until writes fail, and
// checks that the failure is a clear error, that reads go on working, that
// nothing half-written is left, and that writes work again once there is room.
func TestDiskFull(t *testing.T) {
	inMountNamespace(t, func(t *testing.T, dir string) {
		mnt := filepath.Join(dir, "tiny")
		require.NoError(t, os.Mkdir(mnt, 0o700))
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0700"); err != nil {
			t.Skipf("cannot mount a tmpfs here: %v", err)
		}
		s, err := Open(filepath.Join(mnt, "mobilise.db"), WithBatchDelay(0))
		require.NoError(t, err)
		c, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "Salma", "ar")
		require.NoError(t, err)

		var writeErr error
		created := 0
		for i := range 10_000 {
			inst := &Institution{NameAR: fmt.Sprintf("مؤسسة %d %s", i, strings.Repeat("س", 2000)), Field: "youth", ApplicantID: c.ID}
			if writeErr = s.CreateInstitution(context.Background(), inst); writeErr != nil {
				break
			}
			created++
		}
		require.Error(t, writeErr, "a 1 MiB disk fills up")
		require.Positive(t, created)
		t.Logf("%d institutions fitted; then: %v", created, writeErr)
		assert.ErrorIs(t, writeErr, syscall.ENOSPC, "the cause is kept for errors.Is")
		assert.Contains(t, writeErr.Error(), "creating institution")
		assert.Contains(t, writeErr.Error(), "no space left on device")

		// the bot keeps answering what it can: everything committed reads back
		insts, err := s.Institutions(context.Background(), "")
		require.NoError(t, err)
		assert.Len(t, insts, created)
		got, err := s.ContactByAddress(context.Background(), bot.MustParseAddress("telegram:1"))
		require.NoError(t, err)
		assert.Equal(t, "Salma", got.Name)
		require.Error(t, s.CreateInstitution(context.Background(), &Institution{NameAR: strings.Repeat("ب", 3000)}), "still full")
		_, err = s.Institutions(context.Background(), "")
		require.NoError(t, err, "a failed write leaves reads working")

		// room again: writes resume on the same open store
		require.NoError(t, syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT, "size=16m,mode=0700"))
		require.NoError(t, s.CreateInstitution(context.Background(), &Institution{NameAR: "بعد", Field: "youth", ApplicantID: c.ID}))
		require.NoError(t, s.Check())
		require.NoError(t, s.Close())

		s, err = Open(filepath.Join(mnt, "mobilise.db"))
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.Check(), "no corruption")
		insts, err = s.Institutions(context.Background(), "")
		require.NoError(t, err)
		assert.Len(t, insts, created+1, "nothing half-written: the failed writes left no record")
	})
}

// TestReadOnlyFileSystem opens a database whose file system went read-only,
// as ext4 does after disk errors (a chmod would not do: root ignores modes):
// Open must fail with a clear error and leave the file as it was.
func TestReadOnlyFileSystem(t *testing.T) {
	inMountNamespace(t, func(t *testing.T, dir string) {
		data := filepath.Join(dir, "data")
		path := filepath.Join(data, "mobilise.db")
		s, err := Open(path)
		require.NoError(t, err)
		_, _, err = s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "Salma", "ar")
		require.NoError(t, err)
		require.NoError(t, s.Close())
		before, err := os.ReadFile(path)
		require.NoError(t, err)

		require.NoError(t, syscall.Mount(data, data, "", syscall.MS_BIND, ""))
		require.NoError(t, syscall.Mount("", data, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""))

		_, err = Open(path)
		require.Error(t, err)
		assert.ErrorIs(t, err, syscall.EROFS)
		assert.Contains(t, err.Error(), "opening store "+path)
		assert.Contains(t, err.Error(), "read-only file system")
		assert.False(t, errors.Is(err, ErrCorrupt), "a read-only disk is not a damaged file")
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(before, after))

		// a new database in a read-only directory fails as clearly
		_, err = Open(filepath.Join(data, "new", "mobilise.db"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "read-only file system")
	})
}

// TestOpenIgnoresAPermissiveUmask checks that a new data directory (and the
// directories above it that Open creates) is 0700 and the database 0600
// even under a umask that allows everything.
func TestOpenIgnoresAPermissiveUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "a", "data")
	s, err := Open(filepath.Join(dir, "mobilise.db"))
	require.NoError(t, err)
	defer s.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, filepath.Join(dir, "mobilise.db"): 0o600} {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, want, fi.Mode().Perm(), path)
	}
}
