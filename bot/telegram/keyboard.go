package telegram

import (
	"fmt"
	"strings"

	"mobilise/bot"
)

// maxCallbackData is Telegram's limit on a button's callback_data, in bytes.
const maxCallbackData = 64

// inlineMarkup is an inline keyboard of callback buttons. The library's
// InlineKeyboardButton always encodes "copy_text":{"text":""}, which the Bot
// API refuses (BUTTON_COPY_TEXT_INVALID), so the markup is encoded from these.
type inlineMarkup struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// inlineKeyboard turns a menu into an inline keyboard, one row per slice, each
// button carrying its payload as callback_data. No buttons gives nil: inline
// keyboards belong to their message, so there is nothing to remove.
func inlineKeyboard(rows [][]bot.Button) (*inlineMarkup, error) {
	var kb [][]inlineButton
	for i, row := range rows {
		if len(row) == 0 {
			continue
		}
		r := make([]inlineButton, 0, len(row))
		for j, b := range row {
			switch {
			case strings.TrimSpace(b.Text) == "":
				return nil, fmt.Errorf("button %d.%d: empty text", i+1, j+1)
			case b.Payload == "":
				return nil, fmt.Errorf("button %q: empty payload", b.Text)
			case len(b.Payload) > maxCallbackData:
				return nil, fmt.Errorf("button %q: payload of %d bytes, Telegram takes %d", b.Text, len(b.Payload), maxCallbackData)
			}
			r = append(r, inlineButton{Text: b.Text, CallbackData: b.Payload})
		}
		kb = append(kb, r)
	}
	if len(kb) == 0 {
		return nil, nil
	}
	return &inlineMarkup{InlineKeyboard: kb}, nil
}
