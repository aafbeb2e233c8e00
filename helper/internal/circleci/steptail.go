package circleci

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxStepOutput is how much of a step's output GetStepOutput keeps: its last MiB of text. The
// output is read whole, however large (a failing test suite can print far more than the 4 MiB
// any other answer may have), but only its end is kept, since the end is what says why the step
// failed.
const MaxStepOutput = 1 << 20

// readStepTail reads a step's output, a JSON list of {"type": …, "message": …} objects, in one
// pass and in bounded memory: the messages' text is kept only as far as the last keep bytes of
// it (the first message kept is cut at a line's start), and the kept messages come back as the
// same kind of list. Fields other than type and message are skipped; null stands for an empty
// list.
func readStepTail(r io.Reader, keep int) ([]byte, error) {
	s := &stepScanner{r: bufio.NewReaderSize(r, 64<<10), keep: keep}
	msgs, err := s.list()
	var rerr readError
	switch {
	case errors.As(err, &rerr):
		return nil, rerr.err // the connection's error: the answer did not arrive in full
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
	}
	return encodeMessages(msgs), nil
}

// encodeMessages writes msgs as JSON into one buffer sized for them (json.Marshal would grow
// its buffer step by step, allocating several times the text it writes).
func encodeMessages(msgs []StepOutputMessage) []byte {
	n := 2
	for _, m := range msgs {
		n += len(m.Type) + len(m.Message) + len(`{"type":"","message":""},`)
	}
	b := make([]byte, 0, n+n/8)
	b = append(b, '[')
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = appendJSONString(b, m.Type)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, m.Message)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string; bytes that are not UTF-8 become U+FFFD, as
// encoding/json writes them.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// errMalformed is an answer that arrived but is not what it should be: asking again will not
// change it.
var errMalformed = errors.New("not valid JSON")

// readError is an error reading the body (the connection), as opposed to its content.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }

// stepScanner is a small JSON reader for one shape, streaming the message strings.
type stepScanner struct {
	r       *bufio.Reader
	keep    int
	msgs    []StepOutputMessage
	total   int  // bytes of text in msgs
	partial bool // msgs[0] does not start at a line's start: what came before it was dropped
	text    tail // the message being read, its buffer reused from one message to the next
}

var errNotStepOutput = errors.New("not a list of step output messages")

func (s *stepScanner) list() ([]StepOutputMessage, error) {
	c, err := s.next()
	if err != nil {
		return nil, err
	}
	switch c {
	case 'n':
		if err := s.literal("ull"); err != nil {
			return nil, err
		}
		return []StepOutputMessage{}, s.end()
	case '[':
	default:
		return nil, errNotStepOutput
	}
	err = s.items(']', func(c byte) error {
		switch c {
		case '{':
			return s.object()
		case 'n': // a null item: an empty message, as encoding/json reads it
			if err := s.literal("ull"); err != nil {
				return err
			}
			s.add(StepOutputMessage{}, 0)
			return nil
		}
		return errNotStepOutput
	})
	if err != nil {
		return nil, err
	}
	if s.msgs == nil {
		s.msgs = []StepOutputMessage{}
	}
	return s.msgs, s.end()
}

// items reads the items of a list or the members of an object up to closer, the opening
// bracket read: item is called with each one's first byte.
func (s *stepScanner) items(closer byte, item func(c byte) error) error {
	for first := true; ; first = false {
		c, err := s.next()
		if err != nil {
			return err
		}
		if c == closer {
			return nil
		}
		if !first {
			if c != ',' {
				return errNotStepOutput
			}
			if c, err = s.next(); err != nil {
				return err
			}
		}
		if err := item(c); err != nil {
			return err
		}
	}
}

// member reads an object's member, its key's opening quote read: the key (its first 64 bytes)
// and the first byte of its value.
func (s *stepScanner) member(c byte) (string, byte, error) {
	if c != '"' {
		return "", 0, errNotStepOutput
	}
	key := limited{max: 64}
	if err := s.str(&key); err != nil {
		return "", 0, err
	}
	if c, err := s.next(); err != nil {
		return "", 0, err
	} else if c != ':' {
		return "", 0, errNotStepOutput
	}
	c, err := s.next()
	return key.String(), c, err
}

// object reads one message object, its opening brace read.
func (s *stepScanner) object() error {
	var m StepOutputMessage
	var dropped byte
	err := s.items('}', func(c byte) error {
		key, c, err := s.member(c)
		if err != nil {
			return err
		}
		switch {
		case strings.EqualFold(key, "message") && c == '"': // any case, as encoding/json reads keys
			s.text.reset(s.keep)
			if err := s.str(&s.text); err != nil {
				return err
			}
			m.Message = s.text.String()
			dropped = s.text.dropped
		case strings.EqualFold(key, "type") && c == '"':
			typ := limited{max: 64}
			if err := s.str(&typ); err != nil {
				return err
			}
			m.Type = typ.String()
		default:
			return s.skip(c, 0)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.add(m, dropped)
	return nil
}

// maxStepMessages bounds how many messages are kept, however short they are.
const maxStepMessages = 10000

// add keeps m (whose own front tail may have cut: dropped is the last byte it dropped, 0 for
// none), and drops text from the front of what is kept beyond keep bytes. When the text kept
// starts in the middle of a line, that partial line is dropped too: it says nothing.
func (s *stepScanner) add(m StepOutputMessage, dropped byte) {
	s.msgs = append(s.msgs, m)
	s.total += len(m.Message)
	if len(s.msgs) == 1 && dropped != 0 {
		s.partial = dropped != '\n'
	}
	for s.total > s.keep && len(s.msgs) > 1 || len(s.msgs) > maxStepMessages {
		gone := s.msgs[0].Message
		s.total -= len(gone)
		s.msgs = s.msgs[1:]
		if gone != "" {
			s.partial = !strings.HasSuffix(gone, "\n")
		}
		if len(s.msgs) == 1 && dropped != 0 {
			s.partial = dropped != '\n'
		}
	}
	if over := s.total - s.keep; over > 0 {
		first := s.msgs[0].Message
		over = runeStart(first, over)
		s.partial = first[over-1] != '\n'
		s.msgs[0].Message = first[over:]
		s.total -= over
	}
	if s.partial {
		first := &s.msgs[0].Message
		if i := strings.IndexByte(*first, '\n'); i >= 0 {
			s.total -= i + 1
			*first = (*first)[i+1:]
			s.partial = false
		}
	}
}

// next is the next byte that is not JSON white space.
func (s *stepScanner) next() (byte, error) {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, cutOff(err)
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

// end checks that nothing but white space follows the list.
func (s *stepScanner) end() error {
	if _, err := s.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		if err == nil {
			return errors.New("data after the list of step output messages")
		}
		return err
	}
	return nil
}

// cutOff is the error of a read that failed: the body ended too soon (malformed), or the
// connection failed (a readError).
func cutOff(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return readError{err}
}

// literal reads the rest of true, false or null.
func (s *stepScanner) literal(rest string) error {
	for i := 0; i < len(rest); i++ {
		c, err := s.r.ReadByte()
		if err != nil {
			return cutOff(err)
		}
		if c != rest[i] {
			return errNotStepOutput
		}
	}
	return nil
}

// skip reads past one value that starts with c (objects and lists to any depth up to 64).
func (s *stepScanner) skip(c byte, depth int) error {
	if depth > 64 {
		return errors.New("step output nested too deep")
	}
	switch {
	case c == '"':
		return s.str(discard{})
	case c == 't':
		return s.literal("rue")
	case c == 'f':
		return s.literal("alse")
	case c == 'n':
		return s.literal("ull")
	case c == '-' || '0' <= c && c <= '9':
		for {
			b, err := s.r.ReadByte()
			if err != nil {
				return cutOff(err)
			}
			if !(b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E' || '0' <= b && b <= '9') {
				return s.r.UnreadByte()
			}
		}
	case c == '[':
		return s.items(']', func(c byte) error { return s.skip(c, depth+1) })
	case c == '{':
		return s.items('}', func(c byte) error {
			_, c, err := s.member(c)
			if err != nil {
				return err
			}
			return s.skip(c, depth+1)
		})
	}
	return errNotStepOutput
}

// sink takes a string's text as it is unescaped.
type sink interface {
	io.Writer
	WriteByte(c byte) error
	WriteRune(r rune) (int, error)
}

// str reads a string, its opening quote read, into w: escapes decoded, a lone surrogate as
// U+FFFD. Control bytes, which JSON does not allow raw in a string, are taken as they are: the
// log is what matters, and the printers make them visible.
func (s *stepScanner) str(w sink) error {
	for {
		if err := s.plain(w); err != nil {
			return err
		}
		c, err := s.r.ReadByte()
		if err != nil {
			return cutOff(err)
		}
		switch c {
		case '"':
			return nil
		case '\\':
			e, err := s.r.ReadByte()
			if err != nil {
				return cutOff(err)
			}
			switch e {
			case '"', '\\', '/':
				w.WriteByte(e)
			case 'b':
				w.WriteByte('\b')
			case 'f':
				w.WriteByte('\f')
			case 'n':
				w.WriteByte('\n')
			case 'r':
				w.WriteByte('\r')
			case 't':
				w.WriteByte('\t')
			case 'u':
				r, err := s.hex4()
				if err != nil {
					return err
				}
				if utf16.IsSurrogate(r) {
					r = s.lowSurrogate(r)
				}
				w.WriteRune(r)
			default:
				return fmt.Errorf("a string holds the escape \\%c", e)
			}
		default:
			w.WriteByte(c)
		}
	}
}

// plain writes to w, in bulk, the bytes up to the next quote or backslash: most of a log.
func (s *stepScanner) plain(w sink) error {
	for {
		buf, err := s.r.Peek(max(s.r.Buffered(), 1))
		if len(buf) == 0 {
			return cutOff(err)
		}
		end := bytes.IndexByte(buf, '"')
		run := buf
		if end >= 0 {
			run = buf[:end]
		}
		if esc := bytes.IndexByte(run, '\\'); esc >= 0 {
			end, run = esc, run[:esc]
		}
		_, _ = w.Write(run)
		_, _ = s.r.Discard(len(run))
		if end >= 0 {
			return nil
		}
	}
}

// lowSurrogate pairs the high surrogate hi with a \uDC00-\uDFFF that follows, else U+FFFD.
func (s *stepScanner) lowSurrogate(hi rune) rune {
	if next, err := s.r.Peek(6); err == nil && next[0] == '\\' && next[1] == 'u' {
		lo, ok := hexRune(next[2:6])
		if r := utf16.DecodeRune(hi, lo); ok && r != utf8.RuneError {
			_, _ = s.r.Discard(6)
			return r
		}
	}
	return utf8.RuneError
}

func (s *stepScanner) hex4() (rune, error) {
	var b [4]byte
	if n, err := io.ReadFull(s.r, b[:]); err != nil {
		if n > 0 && err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		return 0, cutOff(err)
	}
	r, ok := hexRune(b[:])
	if !ok {
		return 0, errors.New("a string holds a bad \\u escape")
	}
	return r, nil
}

func hexRune(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// tail keeps the last keep bytes written to it, in at most twice that memory.
type tail struct {
	keep    int
	buf     []byte
	dropped byte // the last byte dropped from the front; 0 while none was
}

func (t *tail) reset(keep int) { t.keep, t.buf, t.dropped = keep, t.buf[:0], 0 }

func (t *tail) Write(p []byte) (int, error) {
	if len(p) >= t.keep { // it alone fills what is kept
		from := runeStart(p, len(p)-t.keep)
		if from > 0 {
			t.dropped = p[from-1]
		} else if len(t.buf) > 0 {
			t.dropped = t.buf[len(t.buf)-1]
		}
		t.buf = t.buf[:0]
		t.room(len(p) - from)
		t.buf = append(t.buf, p[from:]...)
		return len(p), nil
	}
	t.room(len(p))
	t.buf = append(t.buf, p...)
	return len(p), nil
}

func (t *tail) WriteByte(c byte) error {
	t.room(1)
	t.buf = append(t.buf, c)
	return nil
}

func (t *tail) WriteRune(r rune) (int, error) {
	t.room(utf8.UTFMax)
	n := len(t.buf)
	t.buf = utf8.AppendRune(t.buf, r)
	return len(t.buf) - n, nil
}

// room makes room for n more bytes: the buffer doubles up to twice keep, and from then on the
// bytes before the last keep are dropped instead.
func (t *tail) room(n int) {
	if len(t.buf)+n <= cap(t.buf) {
		return
	}
	limit := 2*t.keep + utf8.UTFMax
	if cap(t.buf) < limit {
		size := max(2*cap(t.buf), 4096)
		if size > t.keep { // past keep, the one last size: each allocation counts at this scale
			size = limit
		}
		grown := make([]byte, len(t.buf), size)
		copy(grown, t.buf)
		t.buf = grown
		if len(t.buf)+n <= cap(t.buf) {
			return
		}
	}
	from := runeStart(t.buf, len(t.buf)-t.keep)
	t.dropped = t.buf[from-1]
	t.buf = t.buf[:copy(t.buf, t.buf[from:])]
}

// runeStart moves a cut at from forward to the start of a character, so that no cut leaves
// half of one (which would come back as U+FFFD, longer than the bytes it stands for).
func runeStart[T string | []byte](b T, from int) int {
	for i := 0; i < utf8.UTFMax-1 && from < len(b) && !utf8.RuneStart(b[from]); i++ {
		from++
	}
	return from
}

func (t *tail) String() string {
	if from := len(t.buf) - t.keep; from > 0 {
		from = runeStart(t.buf, from)
		t.dropped = t.buf[from-1]
		return string(t.buf[from:])
	}
	return string(t.buf)
}

// limited keeps the first max bytes written to it (a key, a type), and ignores the rest.
type limited struct {
	max int
	buf []byte
}

func (l *limited) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p[:min(len(p), max(l.max-len(l.buf), 0))]...)
	return len(p), nil
}

func (l *limited) WriteByte(c byte) error {
	if len(l.buf) < l.max {
		l.buf = append(l.buf, c)
	}
	return nil
}

func (l *limited) WriteRune(r rune) (int, error) {
	if len(l.buf) < l.max {
		l.buf = utf8.AppendRune(l.buf, r)
	}
	return utf8.RuneLen(r), nil
}

func (l *limited) String() string { return string(l.buf) }

// discard takes a string and keeps nothing.
type discard struct{}

func (discard) Write(p []byte) (int, error)   { return len(p), nil }
func (discard) WriteByte(byte) error          { return nil }
func (discard) WriteRune(r rune) (int, error) { return utf8.RuneLen(r), nil }
