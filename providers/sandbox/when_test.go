package sandbox

import (
	"testing"
	"time"
)

func TestWhen(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2027-01-01T00:00:00Z", want: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2027-01-31", want: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
		{in: "+20d", want: now.Add(20 * 24 * time.Hour)},
		{in: "-3d", want: now.Add(-3 * 24 * time.Hour)},
		{in: "+36h", want: now.Add(36 * time.Hour)},
		{in: "+xd", bad: true},
		{in: "tomorrow", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var w When
			err := w.UnmarshalText([]byte(tt.in))
			if tt.bad {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := w.At(now)
			if !ok || !got.Equal(tt.want) {
				t.Fatalf("At = %v, %v; want %v", got, ok, tt.want)
			}
		})
	}
}
