package circleci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// decodePage decodes one page of a list, {"items": […], "next_page_token": …}, appending its
// items to items. It decodes one item at a time and stops with an error once items would hold
// more than limit, so a page of a million tiny items costs no more memory than limit of them.
// Other fields are skipped; a null items or next_page_token is an empty one.
func decodePage[T any](body []byte, items []T, limit int) (_ []T, next string, err error) {
	defer func() {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the page is cut off")
		}
	}()
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := expectDelim(dec, '{', "the page is not a JSON object"); err != nil {
		return items, "", err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return items, "", err
		}
		switch key {
		case "items":
			if items, err = decodeItems(dec, items, limit); err != nil {
				return items, "", err
			}
		case "next_page_token":
			var tok *string
			if err := dec.Decode(&tok); err != nil {
				return items, "", fmt.Errorf("next_page_token: %w", err)
			}
			next = ""
			if tok != nil {
				next = *tok
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return items, "", err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return items, "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return items, "", fmt.Errorf("data after the page's JSON object")
	}
	return items, next, nil
}

// firstItem decodes the items of one page, {"items": […], …}, one by one until match accepts
// one, and returns it; nil when none does. What follows that item is not read.
func firstItem[T any](body []byte, match func(*T) bool) (_ *T, err error) {
	defer func() {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the page is cut off")
		}
	}()
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := expectDelim(dec, '{', "the page is not a JSON object"); err != nil {
		return nil, err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if key != "items" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		tok, err := dec.Token()
		switch {
		case err != nil:
			return nil, err
		case tok == nil:
			return nil, nil
		case tok != json.Delim('['):
			return nil, fmt.Errorf("items is not a list")
		}
		for n := 0; dec.More(); n++ {
			if n >= maxListItems {
				return nil, listFullError{maxListItems}
			}
			item := new(T)
			if err := dec.Decode(item); err != nil {
				return nil, err
			}
			if match(item) {
				return item, nil
			}
		}
		return nil, nil
	}
	return nil, nil
}

// decodeItems decodes a JSON array (or null) item by item.
func decodeItems[T any](dec *json.Decoder, items []T, limit int) ([]T, error) {
	tok, err := dec.Token()
	if err != nil {
		return items, err
	}
	if tok == nil {
		return items, nil
	}
	if tok != json.Delim('[') {
		return items, fmt.Errorf("items is not a list")
	}
	for dec.More() {
		if len(items) >= limit {
			return items, listFullError{limit}
		}
		var item T
		if err := dec.Decode(&item); err != nil {
			return items, err
		}
		items = append(items, item)
	}
	_, err = dec.Token() // the closing ]
	return items, err
}

// listFullError is decodePage's error for a list with more items than its limit; a caller that
// wants the first items only (ListJobTests) keeps them.
type listFullError struct{ limit int }

func (e listFullError) Error() string {
	return fmt.Sprintf("the list has more than %d items, more than baton reads", e.limit)
}

func expectDelim(dec *json.Decoder, want json.Delim, msg string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("%s", msg)
	}
	return nil
}
