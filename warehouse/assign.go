package warehouse

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Assign stores a scanned value src in dest with database/sql's conversion
// rules (reached through sql.Null[T].Scan), for drivers whose rows do not come
// from database/sql. dest may be a sql.Scanner, *any, a pointer to a string,
// []byte, integer, float, bool or time.Time, or a pointer to a pointer to one
// of those (NULL gives nil).
var errNull = errors.New("converting NULL is unsupported for this destination; use a pointer or sql.Null type")

func Assign(dest, src any) error {
	switch d := dest.(type) {
	case sql.Scanner:
		return d.Scan(src)
	case *any:
		*d = src
		return nil
	case *string:
		return scanValue(d, src)
	case *[]byte:
		if src == nil {
			*d = nil
			return nil
		}
		return scanValue(d, src)
	case *int64:
		return scanValue(d, src)
	case *int:
		return scanValue(d, src)
	case *int32:
		return scanValue(d, src)
	case *float64:
		return scanValue(d, src)
	case *float32:
		return scanValue(d, src)
	case *bool:
		return scanValue(d, src)
	case *time.Time:
		return scanValue(d, src)
	case **string:
		return scanPointer(d, src)
	case **int64:
		return scanPointer(d, src)
	case **float64:
		return scanPointer(d, src)
	case **bool:
		return scanPointer(d, src)
	case **time.Time:
		return scanPointer(d, src)
	}
	return fmt.Errorf("unsupported Scan destination %T", dest)
}

func scanValue[T any](d *T, src any) error {
	var n sql.Null[T]
	if err := n.Scan(src); err != nil {
		return err
	}
	if !n.Valid {
		return errNull
	}
	*d = n.V
	return nil
}

func scanPointer[T any](d **T, src any) error {
	var n sql.Null[T]
	if err := n.Scan(src); err != nil {
		return err
	}
	if !n.Valid {
		*d = nil
		return nil
	}
	v := n.V
	*d = &v
	return nil
}
