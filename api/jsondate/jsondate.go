// Package jsondate is the API's calendar day: oapi-codegen's types.Date,
// with the same JSON, text and parameter forms ("2006-01-02"), written
// without re-entering encoding/json. types.Date's MarshalJSON calls
// json.Marshal for its string: half of the time a page of cases took to
// encode. api/oapi-codegen.yaml maps the format date to it; the client
// keeps types.Date, and the wire is the same.
package jsondate

import (
	"encoding/json"
	"time"
)

// Format is a day's layout in JSON, text and parameters.
const Format = "2006-01-02"

// Date is a day: the date of Time, whose clock is ignored.
type Date struct {
	time.Time
}

// MarshalJSON writes the day as a JSON string, the bytes json.Marshal
// writes for d.Format(Format): the layout has nothing to escape.
func (d Date) MarshalJSON() ([]byte, error) {
	y, m, day := d.Date()
	if y < 0 || y > 9999 {
		b := append(make([]byte, 0, len(Format)+4), '"')
		return append(d.AppendFormat(b, Format), '"'), nil
	}
	return []byte{'"', digit(y / 1000), digit(y / 100), digit(y / 10), digit(y), '-',
		digit(int(m) / 10), digit(int(m)), '-', digit(day / 10), digit(day), '"'}, nil
}

// digit is the last decimal digit of n ≥ 0.
func digit(n int) byte { return byte('0' + n%10) }

// UnmarshalJSON reads a JSON string in Format.
func (d *Date) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	return d.UnmarshalText([]byte(s))
}

func (d Date) String() string { return d.Format(Format) }

// MarshalText writes the day in Format.
func (d Date) MarshalText() ([]byte, error) { return d.AppendFormat(nil, Format), nil }

// UnmarshalText reads a day in Format.
func (d *Date) UnmarshalText(data []byte) error {
	parsed, err := time.Parse(Format, string(data))
	if err != nil {
		return err
	}
	d.Time = parsed
	return nil
}

// Bind reads a query parameter (oapi-codegen's runtime.Binder): a day is
// one value, not a struct; an empty one leaves d as it is.
func (d *Date) Bind(src string) error {
	if src == "" {
		return nil
	}
	return d.UnmarshalText([]byte(src))
}
