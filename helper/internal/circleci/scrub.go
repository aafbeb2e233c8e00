package circleci

import (
	"reflect"

	"github.com/baton-ci/baton/helper/internal/redact"
)

// scrub replaces the token, in every form package redact knows, in every string of a decoded
// answer (v is a pointer to it). A server that echoes the token (in a workflow name, a message)
// then cannot get it into anything baton renders: Markdown, XML and JSON writers escape text in
// ways the redactor on baton's outputs would no longer recognise.
func scrub(r *redact.Redactor, v any) {
	if r == nil {
		return
	}
	scrubValue(r, reflect.ValueOf(v))
}

func scrubValue(r *redact.Redactor, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			scrubValue(r, v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				scrubValue(r, v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			scrubValue(r, v.Index(i))
		}
	case reflect.String:
		if v.CanSet() {
			if s := v.String(); r.Contains(s) {
				v.SetString(r.String(s))
			}
		}
	case reflect.Interface:
		if !v.IsNil() && v.CanSet() {
			v.Set(reflect.ValueOf(scrubAny(r, v.Interface())))
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			val := iter.Value()
			switch val.Kind() {
			case reflect.String:
				if s := val.String(); r.Contains(s) {
					v.SetMapIndex(iter.Key(), reflect.ValueOf(r.String(s)).Convert(val.Type()))
				}
			case reflect.Interface:
				if !val.IsNil() {
					v.SetMapIndex(iter.Key(), reflect.ValueOf(scrubAny(r, val.Interface())))
				}
			default: // slices share their elements with the map's value; pointers their target
				scrubValue(r, val)
			}
		}
	}
}

// scrubAny scrubs a value decoded into any: strings, []any and map[string]any.
func scrubAny(r *redact.Redactor, x any) any {
	switch t := x.(type) {
	case string:
		return r.String(t)
	case []any:
		for i := range t {
			t[i] = scrubAny(r, t[i])
		}
	case map[string]any:
		for k, val := range t {
			t[k] = scrubAny(r, val)
		}
	}
	return x
}
