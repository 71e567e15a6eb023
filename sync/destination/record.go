package destination

import (
	"fmt"
	"math"
	"time"
)

// CheckOp returns an error for an operation that is not one of the Op
// constants.
func CheckOp(op Op) error {
	switch op {
	case OpAdd, OpChange, OpRemove, OpUnsubscribe, OpErase:
		return nil
	}
	return fmt.Errorf("unknown operation %q", op)
}

// JSONFields copies a record's fields for JSON encoding: times in UTC, and a
// NaN or infinite number — which JSON cannot carry — is an error naming the
// field, so the destination can reject that record alone.
func JSONFields(fields map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		switch x := v.(type) {
		case time.Time:
			v = x.UTC()
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("field %q is %v, which JSON cannot carry", k, x)
			}
		case float32:
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("field %q is %v, which JSON cannot carry", k, x)
			}
		}
		out[k] = v
	}
	return out, nil
}
