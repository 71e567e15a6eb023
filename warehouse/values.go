package warehouse

import (
	"fmt"

	"github.com/cdpkit/cdp/models"
	"math/big"
	"time"
)

// Plain converts a value scanned from any warehouse driver into one of the
// plain types the rest of the CDP handles: nil, string, int64, float64,
// bool or time.Time (UTC). Exact decimals (any value with a Float64 method,
// such as DuckDB's DECIMAL) become float64.
func Plain(v any) any {
	switch x := v.(type) {
	case nil, string, int64, float64, bool:
		return v
	case []byte:
		return string(x)
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case time.Time:
		return x.UTC()
	case interface{ Float64() float64 }:
		return x.Float64()
	}
	return v
}

// CheckValue checks that a bulk-loaded value has the Go type of its column's
// CDP type (nil, string, int64, float64, bool, time.Time), normalizes
// timestamps to UTC and keeps only the calendar day of dates.
func CheckValue(v any, cdpType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	ok := false
	switch cdpType {
	case models.TypeInteger:
		_, ok = v.(int64)
	case models.TypeNumber:
		_, ok = v.(float64)
	case models.TypeBoolean:
		_, ok = v.(bool)
	case models.TypeTimestamp:
		var t time.Time
		if t, ok = v.(time.Time); ok {
			return t.UTC(), nil
		}
	case models.TypeDate:
		var t time.Time
		if t, ok = v.(time.Time); ok {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
		}
	default:
		_, ok = v.(string)
	}
	if !ok {
		return nil, fmt.Errorf("%T value for a %s column", v, cdpType)
	}
	return v, nil
}
