package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mdp/qrterminal/v3"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types/events"
)

// ErrLinkTimeout means the QR or pairing codes expired before the phone used one.
var ErrLinkTimeout = errors.New("whatsapp: linking timed out: no code was used in time, run the command again")

// settleTimeout bounds how long Link waits, after the phone accepted the
// pairing, for the first logged-in connection that finishes the setup.
const settleTimeout = 30 * time.Second

// linkClient is the part of *whatsmeow.Client that pairing uses.
type linkClient interface {
	GetQRChannel(ctx context.Context) (<-chan whatsmeow.QRChannelItem, error)
	Connect() error
	Disconnect()
	AddEventHandler(whatsmeow.EventHandler) uint32
	PairPhone(ctx context.Context, phone string, showPushNotification bool, clientType whatsmeow.PairClientType, clientDisplayName string) (string, error)
}

var _ linkClient = (*whatsmeow.Client)(nil)

// Link pairs d with a WhatsApp account. With phone == "" it prints QR codes
// to out, a new one as each expires, to scan under Linked devices on the
// phone; with phone (international, "+" and spaces allowed) it prints an
// 8-character code to type on that phone instead. It returns nil once the
// account is linked, ErrLinkTimeout when the codes run out, or the pairing error.
func Link(ctx context.Context, d *Device, out io.Writer, phone string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if d.Linked() {
		return fmt.Errorf("%w: linked to +%s", ErrAlreadyLinked, d.PhoneNumber())
	}
	cli := whatsmeow.NewClient(d.store, newWALogger(log, "whatsmeow"))
	if err := link(ctx, cli, out, phone, log, settleTimeout); err != nil {
		return err
	}
	fmt.Fprintf(out, "Linked to WhatsApp number +%s.\n", d.PhoneNumber())
	return nil
}

// link runs the pairing dialogue over lc; see Link.
func link(ctx context.Context, lc linkClient, out io.Writer, phone string, log *slog.Logger, settle time.Duration) error {
	qrs, err := lc.GetQRChannel(ctx)
	if err != nil {
		return fmt.Errorf("whatsapp: start pairing: %w", err)
	}
	// after the pairing the server drops the socket and whatsmeow logs in
	// again; waiting for that login lets it finish the setup (prekeys, sync)
	connected := make(chan struct{}, 1)
	lc.AddEventHandler(func(evt any) {
		if _, ok := evt.(*events.Connected); ok {
			select {
			case connected <- struct{}{}:
			default:
			}
		}
	})
	if err := lc.Connect(); err != nil {
		return fmt.Errorf("whatsapp: connect for pairing: %w", err)
	}
	defer lc.Disconnect()

	codeShown := false
	for {
		var item whatsmeow.QRChannelItem
		var ok bool
		select {
		case item, ok = <-qrs:
		case <-ctx.Done():
			return fmt.Errorf("whatsapp: pairing: %w", ctx.Err())
		}
		if !ok {
			return ErrLinkTimeout
		}
		switch item.Event {
		case whatsmeow.QRChannelEventCode:
			if phone == "" {
				fmt.Fprintf(out, "\nScan this code on the phone: WhatsApp > Settings > Linked devices > Link a device (valid %s).\n", item.Timeout)
				qrterminal.GenerateHalfBlock(item.Code, qrterminal.L, out)
				continue
			}
			if codeShown {
				continue // the pairing code stays valid while the QR codes rotate
			}
			code, err := lc.PairPhone(ctx, phone, true, whatsmeow.PairClientChrome, "Chrome (Linux)")
			if err != nil {
				return fmt.Errorf("whatsapp: request pairing code for %s: %w", phone, err)
			}
			codeShown = true
			fmt.Fprintf(out, "On the phone with number %s: WhatsApp > Settings > Linked devices > Link a device > Link with phone number instead, then enter:\n\n    %s\n\n", phone, code)
		case whatsmeow.QRChannelSuccess.Event:
			select {
			case <-connected:
			case <-time.After(settle):
				log.Warn("paired, but the first login did not complete in time; it will finish on the next start")
			case <-ctx.Done():
			}
			return nil
		case whatsmeow.QRChannelTimeout.Event:
			return ErrLinkTimeout
		case whatsmeow.QRChannelEventError:
			return fmt.Errorf("whatsapp: pairing: %w", item.Error)
		case whatsmeow.QRChannelClientOutdated.Event:
			return errors.New("whatsapp: pairing: WhatsApp rejected this client version; update go.mau.fi/whatsmeow")
		case whatsmeow.QRChannelScannedWithoutMultidevice.Event:
			fmt.Fprintln(out, "The phone scanned the code without multi-device support; update WhatsApp on the phone and scan again.")
		default:
			return fmt.Errorf("whatsapp: pairing: unexpected %q", item.Event)
		}
	}
}

// unlinkTimeout bounds how long Unlink waits to connect before it removes
// the device locally only.
const unlinkTimeout = 15 * time.Second

// unlinkClient is the part of *whatsmeow.Client that Unlink uses.
type unlinkClient interface {
	Connect() error
	Disconnect()
	WaitForConnection(timeout time.Duration) bool
	Logout(ctx context.Context) error
}

var _ unlinkClient = (*whatsmeow.Client)(nil)

// Unlink logs the linked account out, so the phone drops the bot from its
// linked devices, and deletes the device keys. If WhatsApp cannot be reached
// it deletes the keys anyway (the phone then shows the device until it is
// removed there). Stop the running bot first: two connections with the same
// keys replace each other. It returns ErrNotLinked when there is nothing to remove.
func Unlink(ctx context.Context, d *Device, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !d.Linked() {
		return ErrNotLinked
	}
	cli := whatsmeow.NewClient(d.store, newWALogger(log, "whatsmeow"))
	return unlink(ctx, d, cli, log, unlinkTimeout)
}

func unlink(ctx context.Context, d *Device, uc unlinkClient, log *slog.Logger, wait time.Duration) error {
	number := d.PhoneNumber()
	if err := uc.Connect(); err != nil {
		log.Warn("cannot reach whatsapp to log out; removing the device locally", "error", err)
	} else if !uc.WaitForConnection(wait) {
		log.Warn("whatsapp did not accept the session; removing the device locally")
	} else if err := uc.Logout(ctx); err != nil {
		log.Warn("whatsapp logout was refused; removing the device locally", "error", err)
	}
	uc.Disconnect()
	// Logout deletes the device itself; so does whatsmeow when the server
	// says the session was already removed
	if d.store.ID != nil {
		if err := d.store.Delete(ctx); err != nil {
			return fmt.Errorf("whatsapp: delete device +%s: %w", number, err)
		}
	}
	log.Info("whatsapp account unlinked", "phone", number)
	return nil
}
