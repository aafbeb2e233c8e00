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
	next, err = walkPage(body, func(dec *json.Decoder) (bool, error) {
		if len(items) >= limit {
			return false, listFullError{limit}
		}
		var item T
		if err := dec.Decode(&item); err != nil {
			return false, err
		}
		items = append(items, item)
		return true, nil
	})
	return items, next, err
}

// firstItem decodes the items of one page one by one until match accepts one, and returns it;
// nil when none does. What follows that item is not read.
func firstItem[T any](body []byte, match func(*T) bool) (found *T, err error) {
	n := 0
	_, err = walkPage(body, func(dec *json.Decoder) (bool, error) {
		if n++; n > maxListItems {
			return false, listFullError{maxListItems}
		}
		item := new(T)
		if err := dec.Decode(item); err != nil {
			return false, err
		}
		if match(item) {
			found = item
			return false, nil
		}
		return true, nil
	})
	return found, err
}

// walkPage reads one page of a list, handing each item of its items (which may be null) to
// item, positioned at it, while item says go on; other fields are skipped. It returns the
// page's next_page_token ("" for null), when the whole page was read.
func walkPage(body []byte, item func(*json.Decoder) (bool, error)) (next string, err error) {
	defer func() {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the page is cut off")
		}
	}()
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := expectDelim(dec, '{', "the page is not a JSON object"); err != nil {
		return "", err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch key {
		case "items":
			more, err := walkItems(dec, item)
			if err != nil || !more {
				return "", err
			}
		case "next_page_token":
			var tok *string
			if err := dec.Decode(&tok); err != nil {
				return "", fmt.Errorf("next_page_token: %w", err)
			}
			next = ""
			if tok != nil {
				next = *tok
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", fmt.Errorf("data after the page's JSON object")
	}
	return next, nil
}

// walkItems hands a JSON array's (or null's) items to item while it says go on; more is false
// when it stopped.
func walkItems(dec *json.Decoder, item func(*json.Decoder) (bool, error)) (more bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return false, err
	}
	if tok == nil {
		return true, nil
	}
	if tok != json.Delim('[') {
		return false, fmt.Errorf("items is not a list")
	}
	for dec.More() {
		if more, err := item(dec); err != nil || !more {
			return false, err
		}
	}
	_, err = dec.Token() // the closing ]
	return true, err
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
