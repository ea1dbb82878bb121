package retrieve

import (
	"errors"
	"reflect"
	"testing"
)

func TestRequestQuery(t *testing.T) {
	for _, tc := range []struct {
		req  Request
		want Query
		bad  bool
	}{
		{Request{Text: "keys"}, Query{Text: "keys", K: 4, Mode: Lexical}, false},
		{Request{Text: "keys", K: 7, Mode: "hybrid", PathPrefix: "docs/", Tags: []string{" Ops", "ops", ""}},
			Query{Text: "keys", K: 7, Mode: Hybrid, PathPrefix: "docs/", Tags: []string{"ops"}}, false},
		{Request{Text: "  "}, Query{}, true},
		{Request{Text: "keys", Mode: "fuzzy"}, Query{}, true},
		{Request{Text: "keys", K: 101}, Query{}, true},
	} {
		got, err := tc.req.Query(Defaults{Mode: Lexical, K: 4, MaxK: 100})
		if tc.bad {
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("%+v: err %v, want ErrBadRequest", tc.req, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: %+v, %v; want %+v", tc.req, got, err, tc.want)
		}
	}
}
