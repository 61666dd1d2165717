package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"mobilise/bot/coalition"
	"mobilise/bot/poster"
	"mobilise/messages"
	"mobilise/store"
)

// writeInstitutionPoster writes a member institution's poster: its name,
// an invitation to join its supporters, and QR codes that open the bot at
// that invitation (the institution's share link).
func writeInstitutionPoster(ctx context.Context, cfg Config, cat *messages.Catalog, req posterRequest, stdout io.Writer) error {
	var inst *store.Institution
	var codes []string
	err := readSnapshot(ctx, cfg.DataDir, func(st *store.Store) error {
		var err error
		inst, err = st.InstitutionByCode(ctx, req.code)
		if errors.Is(err, store.ErrNotFound) {
			all, lerr := st.Institutions(ctx, store.InstitutionApproved)
			for _, i := range all {
				codes = append(codes, i.Code)
			}
			return errors.Join(err, lerr)
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		if len(codes) == 0 {
			return fmt.Errorf("there is no member institution with the code %q, and no member institutions yet", req.code)
		}
		return fmt.Errorf("there is no member institution with the code %q; the codes are: %v", req.code, codes)
	}
	if err != nil {
		return err
	}
	if !inst.Active() {
		return fmt.Errorf("the membership of %q is %s: its link does not work now", inst.Code, inst.Status)
	}
	payload := coalition.JoinPrefix + inst.Code
	tgLink, err := telegramLink(ctx, cfg, req.telegramBot, payload)
	if err != nil {
		return err
	}
	waLink, err := whatsAppLink(ctx, cfg.DataDir, req.whatsApp, payload)
	if err != nil {
		return err
	}
	if tgLink == "" && waLink == "" {
		return errors.New("the poster needs a way to reach the bot, and none was found: give --telegram-bot NAME " +
			"(or set TELEGRAM_TOKEN), or --whatsapp +970… (or link a number with: mobilise whatsapp link)")
	}
	p := poster.Poster{
		TitleAR: inst.NameAR, CallAR: cat.Text(messages.Arabic, messages.OrgPosterCall, map[string]any{"Name": inst.NameAR}),
		CoalitionAR: req.coalitionAR, CoalitionEN: req.coalitionEN,
		Code: payload, CodeLabel: messages.OrgPosterCode, Organisers: req.organisers,
		TelegramLink: tgLink, WhatsAppLink: waLink,
	}
	if inst.NameEN != "" {
		p.TitleEN, p.CallEN = inst.NameEN, cat.Text(messages.English, messages.OrgPosterCall, map[string]any{"Name": inst.NameEN})
	}
	return drawPoster(cat, p, req.outDir, "poster-institution-"+inst.Code, req.dpi, stdout)
}
